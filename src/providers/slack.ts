import { z } from "zod";
import {
  BaseUrlField,
  SecretString,
  defineProvider,
  httpFailure,
  obj,
  providerAction,
  str,
  type ProviderResult,
  type VendorResponse,
} from "./types";

/** Slack Web API with a bot token: `chat.postMessage`; the auth check is `auth.test`. */

const SlackConfig = z.strictObject({
  bot_token: SecretString("Bot User OAuth Token (xoxb-…)"),
  default_channel: z.string().min(1).max(200).optional().describe("Channel used when post_message names none"),
  signing_secret: SecretString(
    "The Slack app's signing secret: inbound Events API requests to an agent are checked with it",
  ).optional(),
  base_url: BaseUrlField,
});
type SlackConfig = z.output<typeof SlackConfig>;

const AUTH_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "no_permission",
  "missing_scope",
]);

/** Slack answers 200 with `{ok:false, error}` for most failures; 429 carries Retry-After. */
function slackResult<T>(res: VendorResponse, now: number, data: (body: Record<string, unknown>) => T): ProviderResult<T> {
  const body = obj(res.body);
  if (res.status === 429) return httpFailure(res, str(body, "error") ?? "ratelimited", { now, vendor_code: "ratelimited" });
  if (!res.ok) return httpFailure(res, str(body, "error") ?? `Slack answered HTTP ${res.status}`, { now });
  if (body.ok === true) return { success: true, data: data(body), status: res.status };
  const code = str(body, "error") ?? "unknown_error";
  const kind = code === "token_expired" ? "expired" : AUTH_ERRORS.has(code) ? "auth" : "vendor";
  return httpFailure(res, code, { kind, vendor_code: code });
}

const action = providerAction<SlackConfig>();

const postMessage = action({
  title: "Post a Slack message",
  effect: "write",
  description: "Posts a message to a channel (or a thread) with chat.postMessage.",
  params: z.strictObject({
    channel: z.string().min(1).max(200).optional().describe("Channel id or #name; defaults to the connection's default_channel"),
    text: z.string().min(1).max(40_000).describe("Message text (mrkdwn)"),
    thread_ts: z.string().max(100).optional().describe("Reply in this thread"),
    blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional().describe("Block Kit blocks"),
    username: z.string().max(200).optional(),
    icon_emoji: z.string().max(100).optional(),
  }),
  result: z.object({ channel: z.string(), ts: z.string() }),
  async run(ctx, p) {
    const channel = p.channel ?? ctx.config.default_channel;
    if (!channel)
      return { success: false, kind: "vendor", error: "No channel: set params.channel or the connection's default_channel" };
    const res = await ctx.request({
      method: "POST",
      path: "/chat.postMessage",
      headers: { authorization: `Bearer ${ctx.config.bot_token}` },
      json: { channel, text: p.text, thread_ts: p.thread_ts, blocks: p.blocks, username: p.username, icon_emoji: p.icon_emoji },
    });
    return slackResult(res, ctx.now, (b) => ({ channel: str(b, "channel") ?? channel, ts: str(b, "ts") ?? "" }));
  },
});

export const slackProvider = defineProvider({
  platform: "slack",
  title: "Slack",
  description: "Post messages to Slack channels with a bot token.",
  category: "chat",
  docs_url: "https://api.slack.com/methods/chat.postMessage",
  config: SlackConfig,
  secretFields: ["bot_token", "signing_secret"],
  apiRoot: () => "https://slack.com/api",
  actions: { post_message: postMessage },
  async authCheck(ctx) {
    const res = await ctx.request({
      method: "POST",
      path: "/auth.test",
      headers: { authorization: `Bearer ${ctx.config.bot_token}` },
    });
    return slackResult(res, ctx.now, (b) => ({ team: b.team, team_id: b.team_id, user: b.user, user_id: b.user_id }));
  },
});
