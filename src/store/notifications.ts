/** D1 access of `notifications` (in-app notifications of send_notification). Every query filters on org and user. */

export interface NotificationRow {
  id: string;
  org_id: string;
  user_id: string;
  title: string;
  message: string | null;
  link: string | null;
  source: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

interface RawRow extends Omit<NotificationRow, "source"> {
  source: string;
}

const COLUMNS = "id, org_id, user_id, title, message, link, source, created_at, read_at";
const fromRaw = (r: RawRow): NotificationRow => ({ ...r, source: JSON.parse(r.source) as Record<string, unknown> });

/** Inserts unless a notification with this id exists (a retried attempt derives the same id): true when written. */
export async function insertNotification(db: D1Database, row: NotificationRow): Promise<boolean> {
  const res = await db
    .prepare(`INSERT OR IGNORE INTO notifications (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(
      row.id,
      row.org_id,
      row.user_id,
      row.title,
      row.message,
      row.link,
      JSON.stringify(row.source),
      row.created_at,
      row.read_at,
    )
    .run();
  return res.meta.changes > 0;
}

export async function listNotifications(
  db: D1Database,
  orgId: string,
  userId: string,
  opts: { unreadOnly: boolean; limit: number; offset: number },
): Promise<{ total: number; unread: number; results: NotificationRow[] }> {
  const filter = opts.unreadOnly ? " AND read_at IS NULL" : "";
  const [count, unread, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM notifications WHERE org_id = ? AND user_id = ?${filter}`).bind(orgId, userId),
    db
      .prepare(`SELECT COUNT(*) AS n FROM notifications WHERE org_id = ? AND user_id = ? AND read_at IS NULL`)
      .bind(orgId, userId),
    db
      .prepare(
        `SELECT ${COLUMNS} FROM notifications WHERE org_id = ? AND user_id = ?${filter} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
      )
      .bind(orgId, userId, opts.limit, opts.offset),
  ]);
  const n = (r: D1Result) => (r.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total: n(count), unread: n(unread), results: (rows.results as RawRow[]).map(fromRaw) };
}

export async function getNotification(
  db: D1Database,
  orgId: string,
  userId: string,
  id: string,
): Promise<NotificationRow | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM notifications WHERE org_id = ? AND user_id = ? AND id = ?`)
    .bind(orgId, userId, id)
    .first<RawRow>();
  return row ? fromRaw(row) : null;
}

/** Marks one notification read (or unread); false when the user has no such notification. */
export async function setNotificationRead(
  db: D1Database,
  orgId: string,
  userId: string,
  id: string,
  readAt: string | null,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE notifications SET read_at = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(read_at, ?) END WHERE org_id = ? AND user_id = ? AND id = ?`,
    )
    .bind(readAt, readAt, orgId, userId, id)
    .run();
  return res.meta.changes > 0;
}

export async function markAllNotificationsRead(db: D1Database, orgId: string, userId: string, at: string): Promise<number> {
  const res = await db
    .prepare(`UPDATE notifications SET read_at = ? WHERE org_id = ? AND user_id = ? AND read_at IS NULL`)
    .bind(at, orgId, userId)
    .run();
  return res.meta.changes;
}
