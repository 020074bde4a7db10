import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { deterministicId } from "../services/executions";
import { insertNotification } from "../store/notifications";
import type { SideEffect } from "../engine/reruns/side-effects";
import { defineAction, type EffectContext } from "./types";

/** The notification the action writes: its id derives from the action's key, so the engine drops a repeat. */
const notificationEffect = (ctx: Pick<EffectContext, "idempotencyKey">, userId: string): SideEffect => ({
  kind: "notification",
  target: `user/${userId}`,
  operation: "create",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/**
 * Coherence's send_notification: an in-app notification for `user_id`, read with GET /v1/notifications. Its id is
 * derived from the action's idempotency key, so a retried attempt writes it once.
 */
export const NotificationInput = z.object({
  user_id: z.string().min(1).max(500),
  title: z.string().min(1).max(LIMITS.MAX_NOTIFICATION_TITLE_LENGTH),
  message: z.string().max(LIMITS.MAX_NOTIFICATION_MESSAGE_LENGTH).optional(),
  link: z.string().max(2000).optional(),
});

export async function writeNotification(
  db: D1Database,
  orgId: string,
  key: string,
  input: z.output<typeof NotificationInput>,
  source: Record<string, unknown>,
): Promise<{ notification_id: string; created: boolean }> {
  const id = await deterministicId("notification", orgId, key);
  const created = await insertNotification(db, {
    id,
    org_id: orgId,
    user_id: input.user_id,
    title: input.title,
    message: input.message ?? null,
    link: input.link ?? null,
    source,
    created_at: isoNow(),
    read_at: null,
  });
  return { notification_id: id, created };
}

export const sendNotificationAction = defineAction({
  types: ["send_notification"],
  config: NotificationInput,
  async run(ctx, cfg) {
    const { notification_id, created } = await writeNotification(ctx.env.DB, ctx.orgId, ctx.idempotencyKey, cfg, {
      execution_id: ctx.executionId,
      flow_id: ctx.flowId,
      action_id: ctx.actionId,
    });
    const effect: SideEffect = {
      ...notificationEffect(ctx, cfg.user_id),
      operation: created ? "created" : "existing",
      ref: notification_id,
      outcome: "ok",
    };
    return { kind: "success", outputs: { notification_id, user_id: cfg.user_id, title: cfg.title }, effects: [effect] };
  },
  effects: (ctx, cfg) => [notificationEffect(ctx, cfg.user_id)],
});
