import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { insertNotification } from "../store/notifications";
import { deterministicId } from "./executions";

/**
 * An in-app notification for `user_id`, read with GET /v1/notifications: written by the send_notification action
 * (actions/send-notification.ts) and the send_notification tool (services/tools.ts). Its id is derived from the
 * caller's idempotency key, so a retried attempt writes it once.
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
