import { z } from "zod";
import { signStandardWebhook } from "../engine/webhook-signatures";
import { SecretError } from "../lib/secrets";
import { actionSecretOwner, readFlowSecret } from "../store/flow-secrets";
import { httpEffect } from "../engine/reruns/side-effects";
import { HttpCallConfig, performHttpCall } from "./http-call";
import { deliverToTarget, plannedTargetEffect } from "./webhook-target";
import { defineAction, permanentFailure, type ActionContext } from "./types";

/**
 * epilot's `trigger-webhook` and Coherence's `call_webhook`: one HTTP request to the configured URL, or, with
 * epilot's `target_webhook_id` (and no `url`), the entity sent to that webhook target (actions/webhook-target.ts).
 */
export const webhookAction = defineAction({
  types: ["trigger-webhook", "call_webhook"],
  config: HttpCallConfig.partial({ url: true })
    .extend({
      target_webhook_id: z.string().optional(),
      entity_sources: z.array(z.string()).optional(),
      sync: z.boolean().optional(),
    })
    .passthrough(),
  async run(ctx, cfg) {
    if (!cfg.url) {
      if (!cfg.target_webhook_id) return permanentFailure("BAD_CONFIG", "config.url or config.target_webhook_id is required");
      return deliverToTarget(ctx, {
        targetId: cfg.target_webhook_id,
        entitySources: cfg.entity_sources,
        sync: cfg.sync,
        action: "trigger-webhook",
        timeoutMs: cfg.timeout_ms,
      });
    }
    const signing = await signingHeaders(ctx, { ...cfg, url: cfg.url }, cfg.secret_configured === true);
    if ("error" in signing) return permanentFailure("BAD_CONFIG", signing.error);
    return performHttpCall(ctx, { ...cfg, url: cfg.url }, "TRIGGER_WEBHOOK_ERROR", signing.headers);
  },
  effects: (ctx, cfg) =>
    cfg.url
      ? [httpEffect(cfg.method, cfg.url, ctx.idempotencyKey)]
      : cfg.target_webhook_id
        ? plannedTargetEffect(ctx, cfg.target_webhook_id)
        : [],
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
