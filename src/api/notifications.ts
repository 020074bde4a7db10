import { z } from "@hono/zod-openapi";
import { forbidden, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { IdParam } from "../schemas/common";
import { NotificationListQuery, NotificationListSchema, NotificationSchema } from "../schemas/integrations";
import {
  type NotificationRow,
  getNotification,
  listNotifications,
  markAllNotificationsRead,
  setNotificationRead,
} from "../store/notifications";
import type { Principal } from "../lib/principal";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/** The caller's in-app notifications (written by send_notification). Each user sees and marks only their own. */

const TAGS = ["Notifications"];

const view = (n: NotificationRow) => ({
  id: n.id,
  user_id: n.user_id,
  title: n.title,
  message: n.message,
  link: n.link,
  source: n.source,
  created_at: n.created_at,
  read_at: n.read_at,
  read: n.read_at !== null,
});

/** Whose inbox: the caller's own; the superuser may name another user. */
function inboxOf(p: Principal, userId: string | undefined): string {
  if (userId === undefined || userId === p.userId) return p.userId;
  if (p.kind !== "superuser") throw forbidden("Only the superuser may read another user's notifications");
  return userId;
}

const UserQuery = z.object({ user_id: z.string().max(500).optional() });

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listNotifications",
  tags: TAGS,
  summary: "The calling user's in-app notifications, newest first",
  request: { query: NotificationListQuery },
  responses: { 200: jsonResponse(NotificationListSchema, "Notifications"), ...errorResponses(400, 401, 403) },
});

const readAllRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/read-all",
  operationId: "markAllNotificationsRead",
  tags: TAGS,
  summary: "Mark every unread notification of the calling user read",
  request: { query: UserQuery },
  responses: { 200: jsonResponse(z.object({ marked: z.number() }), "Marked"), ...errorResponses(401, 403) },
});

const markRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/{notification_id}/read",
  operationId: "markNotificationRead",
  tags: TAGS,
  summary: "Mark one of the calling user's notifications read (`read: false` marks it unread again)",
  request: {
    params: z.object({ notification_id: IdParam("notification_id") }),
    query: UserQuery,
    ...jsonBody(z.object({ read: z.boolean().default(true) }).strict(), false),
  },
  responses: { 200: jsonResponse(NotificationSchema, "The notification"), ...errorResponses(400, 401, 403, 404) },
});

export const notificationsRouter = createRouter()
  .openapi(listRoute, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const page = await listNotifications(c.env.DB, p.orgId, inboxOf(p, q.user_id), {
      unreadOnly: q.unread_only === "true",
      limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: q.from ?? 0,
    });
    return c.json({ ...page, results: page.results.map(view) }, 200);
  })
  .openapi(readAllRoute, async (c) => {
    const p = c.get("principal");
    const marked = await markAllNotificationsRead(c.env.DB, p.orgId, inboxOf(p, c.req.valid("query").user_id), isoNow());
    return c.json({ marked }, 200);
  })
  .openapi(markRoute, async (c) => {
    const p = c.get("principal");
    const user = inboxOf(p, c.req.valid("query").user_id);
    const { notification_id } = c.req.valid("param");
    const read = (c.req.valid("json") as { read?: boolean } | undefined)?.read ?? true;
    if (!(await setNotificationRead(c.env.DB, p.orgId, user, notification_id, read ? isoNow() : null)))
      throw notFound("Notification");
    const row = await getNotification(c.env.DB, p.orgId, user, notification_id);
    if (!row) throw notFound("Notification");
    return c.json(view(row), 200);
  });
