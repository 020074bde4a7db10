import { NotificationInput, writeNotification } from "../services/notifications";
import { defineAction } from "./types";

/** Coherence's send_notification: an in-app notification (services/notifications.ts), once per idempotency key. */
export const sendNotificationAction = defineAction({
  types: ["send_notification"],
  config: NotificationInput,
  async run(ctx, cfg) {
    const { notification_id } = await writeNotification(ctx.env.DB, ctx.orgId, ctx.idempotencyKey, cfg, {
      execution_id: ctx.executionId,
      flow_id: ctx.flowId,
      action_id: ctx.actionId,
    });
    return { kind: "success", outputs: { notification_id, user_id: cfg.user_id, title: cfg.title } };
  },
});
