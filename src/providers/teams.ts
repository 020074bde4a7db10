import { z } from "zod";
import { BaseUrlField, defineProvider, httpFailure, providerAction, type VendorResponse } from "./types";
import { webhookOrigin, webhookPath } from "./webhook-url";

/**
 * Microsoft Teams incoming webhooks: a Workflows ("Post to a channel when a webhook request is received") URL
 * takes an Adaptive Card message; a legacy Office 365 connector URL takes a MessageCard (`format`).
 */

const TeamsConfig = z.strictObject({
  webhook_url: z.string().url().max(4000).describe("The channel's incoming webhook (Workflows or connector) URL"),
  format: z
    .enum(["adaptive_card", "message_card"])
    .default("adaptive_card")
    .describe("adaptive_card for Workflows, message_card for legacy connectors"),
  base_url: BaseUrlField,
});
type TeamsConfig = z.output<typeof TeamsConfig>;

const action = providerAction<TeamsConfig>();

function payload(format: TeamsConfig["format"], p: { text: string; title?: string; theme_color?: string }) {
  if (format === "message_card") {
    return {
      "@type": "MessageCard",
      "@context": "https://schema.org/extensions",
      summary: p.title ?? p.text.slice(0, 100),
      ...(p.title ? { title: p.title } : {}),
      text: p.text,
      ...(p.theme_color ? { themeColor: p.theme_color } : {}),
    };
  }
  const body = [
    ...(p.title ? [{ type: "TextBlock", text: p.title, weight: "Bolder", size: "Medium", wrap: true }] : []),
    { type: "TextBlock", text: p.text, wrap: true },
  ];
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: { $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4", body },
      },
    ],
  };
}

/** Connectors answer errors as text, sometimes with status 200 (e.g. a throttled post); "1" means delivered. */
function teamsResult(res: VendorResponse, now: number) {
  const text = typeof res.body === "string" ? res.body : JSON.stringify(res.body ?? "");
  if (res.ok && !(res.status === 200 && text !== "" && text !== "1" && /error|failed|throttl/i.test(text))) {
    return { success: true as const, status: res.status, data: { delivered: true } };
  }
  const throttled = /429|throttl/i.test(text);
  return httpFailure(res, text.slice(0, 500) || `Teams answered HTTP ${res.status}`, {
    now,
    ...(throttled ? { kind: "rate_limited" as const } : {}),
  });
}

const postMessage = action({
  title: "Post a Teams message",
  effect: "write",
  description: "Posts a card with a title and text through the channel's incoming webhook.",
  params: z.strictObject({
    text: z.string().min(1).max(20_000).describe("Message text (Markdown subset)"),
    title: z.string().max(500).optional(),
    theme_color: z
      .string()
      .regex(/^#?[0-9a-fA-F]{6}$/)
      .optional()
      .describe("MessageCard accent colour"),
  }),
  result: z.object({ delivered: z.boolean() }),
  async run(ctx, p) {
    const res = await ctx.request({
      method: "POST",
      path: webhookPath(ctx.config.webhook_url),
      json: payload(ctx.config.format, p),
    });
    return teamsResult(res, ctx.now);
  },
});

export const teamsProvider = defineProvider({
  platform: "teams",
  title: "Microsoft Teams",
  description: "Post messages to a Teams channel through an incoming webhook.",
  category: "chat",
  docs_url: "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook",
  config: TeamsConfig,
  secretFields: ["webhook_url"],
  urlFields: ["webhook_url"],
  apiRoot: (c) => webhookOrigin(c.webhook_url),
  actions: { post_message: postMessage },
  // Teams webhooks have no read-only endpoint, and a test must not post into the channel: the check is that the
  // URL is well formed and allowed by the outbound policy (done when the config is validated).
  async authCheck(ctx) {
    return {
      success: true,
      data: { verified: false, format: ctx.config.format, note: "Teams webhooks cannot be checked without posting" },
    };
  },
});
