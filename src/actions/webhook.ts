import { z } from "zod";
import { signStandardWebhook } from "../engine/webhook-signatures";
import { SecretError } from "../lib/secrets";
import { actionSecretOwner, readFlowSecret } from "../store/flow-secrets";
import { httpEffect } from "../engine/reruns/side-effects";
import { HttpCallConfig, performHttpCall } from "./http-call";
import { defineAction, permanentFailure, type ActionContext } from "./types";

/** epilot's `trigger-webhook` and Coherence's `call_webhook`: one HTTP request to the configured URL. */
export const webhookAction = defineAction({
  types: ["trigger-webhook", "call_webhook"],
  config: HttpCallConfig.partial({ url: true }).extend({ target_webhook_id: z.string().optional() }).passthrough(),
  async run(ctx, cfg) {
    if (!cfg.url) {
      return permanentFailure(
        "BAD_CONFIG",
        cfg.target_webhook_id
          ? `Webhook ${cfg.target_webhook_id} is an epilot webhook configuration; set config.url to call an endpoint`
          : "config.url is required",
      );
    }
    const signing = await signingHeaders(ctx, { ...cfg, url: cfg.url }, cfg.secret_configured === true);
    if ("error" in signing) return permanentFailure("BAD_CONFIG", signing.error);
    return performHttpCall(ctx, { ...cfg, url: cfg.url }, "TRIGGER_WEBHOOK_ERROR", signing.headers);
  },
  effects: (ctx, cfg) => (cfg.url ? [httpEffect(cfg.method, cfg.url, ctx.idempotencyKey)] : []),
});

/**
 * Standard Webhooks headers when the action has a signing secret: `webhook-id` is the idempotency key
 * (the same for every attempt), the timestamp the engine clock, the body exactly as performHttpCall sends it.
 * A flow saved with a secret that can no longer be read fails instead of sending unsigned.
 */
async function signingHeaders(
  ctx: ActionContext,
  cfg: HttpCallConfig,
  expected: boolean,
): Promise<{ headers: Record<string, string> } | { error: string }> {
  // Only an action saved with a secret reads one: an unsigned call costs no D1 read.
  if (!expected) return { headers: {} };
  let secret: string | null;
  try {
    secret = await readFlowSecret(ctx.env, ctx.orgId, ctx.flowId, actionSecretOwner(ctx.actionId));
  } catch (err) {
    if (err instanceof SecretError) return { error: `The signing secret cannot be read: ${err.message}` };
    throw err;
  }
  if (!secret) return expected ? { error: "The signing secret of this action is no longer stored" } : { headers: {} };
  const body =
    cfg.body === undefined || cfg.method === "GET" ? "" : typeof cfg.body === "string" ? cfg.body : JSON.stringify(cfg.body);
  const timestamp = Math.floor(ctx.now / 1000);
  return {
    headers: {
      "webhook-id": ctx.idempotencyKey,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signStandardWebhook(secret, ctx.idempotencyKey, timestamp, body),
    },
  };
}
