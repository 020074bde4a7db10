import type { SideEffect } from "../engine/reruns/side-effects";
import { NotificationInput, writeNotification } from "../services/notifications";
import { defineAction, type EffectContext } from "./types";

/** The notification the action writes: its id derives from the action's key, so the engine drops a repeat. */
const notificationEffect = (ctx: Pick<EffectContext, "idempotencyKey">, userId: string): SideEffect => ({
  kind: "notification",
  target: `user/${userId}`,
  operation: "create",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/** Coherence's send_notification: an in-app notification (services/notifications.ts), once per idempotency key. */
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
