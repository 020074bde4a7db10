import { z } from "zod";
import { BaseUrlField, defineProvider, httpFailure, obj, providerAction, str, type VendorResponse } from "./types";
import { webhookOrigin, webhookPath } from "./webhook-url";

/** Discord incoming webhooks: POST {webhook}?wait=true returns the created message; GET {webhook} checks it. */

const DiscordConfig = z.strictObject({
  webhook_url: z
    .string()
    .url()
    .max(2000)
    .refine(
      (u) => /\/api\/webhooks\/\d+\/[\w-]+/.test(new URL(u).pathname),
      "must be a Discord webhook URL (…/api/webhooks/<id>/<token>)",
    )
    .describe("The channel's webhook URL (it embeds the webhook token)"),
  username: z.string().min(1).max(80).optional().describe("Overrides the webhook's name"),
  avatar_url: z.string().url().max(2000).optional(),
  base_url: BaseUrlField,
});
type DiscordConfig = z.output<typeof DiscordConfig>;

/** Discord errors are `{message, code}`; 429s also carry `retry_after` (seconds) in the body. */
function discordFailure(res: VendorResponse, now: number) {
  const b = obj(res.body);
  const code = typeof b.code === "number" ? b.code : undefined;
  // Unknown Webhook / Invalid Webhook Token: the credential itself is wrong.
  const kind = code === 10015 || code === 50027 ? ("auth" as const) : undefined;
  const failed = httpFailure(res, str(b, "message") ?? `Discord answered HTTP ${res.status}`, { now, vendor_code: code, kind });
  if (
    !failed.success &&
    failed.kind === "rate_limited" &&
    failed.retry_after_ms === undefined &&
    typeof b.retry_after === "number"
  ) {
    return { ...failed, retry_after_ms: Math.ceil(b.retry_after * 1000) };
  }
  return failed;
}

const action = providerAction<DiscordConfig>();

const postMessage = action({
  title: "Post a Discord message",
  effect: "write",
  description: "Posts a message through the channel's incoming webhook.",
  params: z
    .strictObject({
      content: z.string().max(2000).optional(),
      embeds: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
      username: z.string().min(1).max(80).optional(),
      tts: z.boolean().optional(),
    })
    .refine((p) => (p.content !== undefined && p.content !== "") || (p.embeds?.length ?? 0) > 0, {
      message: "needs content or embeds",
      path: ["content"],
    }),
  result: z.object({ id: z.string(), channel_id: z.string().optional() }),
  async run(ctx, p) {
    const res = await ctx.request({
      method: "POST",
      path: webhookPath(ctx.config.webhook_url),
      query: { wait: "true" },
      json: {
        content: p.content,
        embeds: p.embeds,
        tts: p.tts,
        username: p.username ?? ctx.config.username,
        avatar_url: ctx.config.avatar_url,
      },
    });
    if (!res.ok) return discordFailure(res, ctx.now);
    const b = obj(res.body);
    return { success: true, status: res.status, data: { id: str(b, "id") ?? "", channel_id: str(b, "channel_id") } };
  },
});

export const discordProvider = defineProvider({
  platform: "discord",
  title: "Discord",
  description: "Post messages to a Discord channel through an incoming webhook.",
  category: "chat",
  docs_url: "https://discord.com/developers/docs/resources/webhook#execute-webhook",
  config: DiscordConfig,
  secretFields: ["webhook_url"],
  urlFields: ["webhook_url"],
  apiRoot: (c) => webhookOrigin(c.webhook_url),
  actions: { post_message: postMessage },
  async authCheck(ctx) {
    const res = await ctx.request({ method: "GET", path: webhookPath(ctx.config.webhook_url) });
    if (!res.ok) return discordFailure(res, ctx.now);
    const b = obj(res.body);
    return { success: true, status: res.status, data: { name: b.name, channel_id: b.channel_id, guild_id: b.guild_id } };
  },
});
