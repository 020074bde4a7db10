import { isoNow } from "../lib/time";

/**
 * The event inbox (migrations/0013_event_inbox.sql): every trigger event is written here before its
 * message is sent, and marked `done` once its executions exist, so the reconciliation can send again
 * what a lost message or a dead producer left behind. Rows are keyed by (org_id, id): an event id is
 * unique within its org, and a second write of the same event changes nothing.
 */

export type InboxState = "queued" | "done" | "dead";

export interface QueuedEventRef {
  org_id: string;
  id: string;
  sends: number;
  at: string;
  depth: number;
}

/**
 * The insert of an event (a statement, so a caller may run it in the batch of the write that caused it).
 * With `ifChanged`, it inserts only if the statement right before it in the batch changed a row
 * (SQLite's `changes()`): a record update or delete that lost a race writes no event.
 */
export function inboxInsertStatement(
  db: D1Database,
  event: { org_id: string; id: string; body: string },
  nextSendAt: string,
  now = isoNow(),
  ifChanged = false,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO event_inbox (org_id, id, body, state, sends, next_send_at, created_at, updated_at)
       SELECT ?, ?, ?, 'queued', 1, ?, ?, ? WHERE ${ifChanged ? "changes() > 0" : "1"} ON CONFLICT (org_id, id) DO NOTHING`,
    )
    .bind(event.org_id, event.id, event.body, nextSendAt, now, now);
}

export async function loadInboxEvent(db: D1Database, orgId: string, id: string): Promise<string | null> {
  const row = await db
    .prepare(`SELECT body FROM event_inbox WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<{ body: string }>();
  return row?.body ?? null;
}

/** Marks events `done` or `dead` in one batch; only queued events move (a dead event stays dead). */
export async function settleInboxEvents(
  db: D1Database,
  events: readonly { org_id: string; id: string }[],
  state: Exclude<InboxState, "queued">,
  now = isoNow(),
): Promise<void> {
  if (!events.length) return;
  await db.batch(
    events.map((e) =>
      db
        .prepare(`UPDATE event_inbox SET state = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = 'queued'`)
        .bind(state, now, e.org_id, e.id),
    ),
  );
}

/**
 * Queued events due to be sent again (`next_send_at` before `now`), most overdue first. `at` and
 * `depth` come from the body, for the reference message that sends one again.
 */
export async function listDueEvents(db: D1Database, now: string, limit: number): Promise<QueuedEventRef[]> {
  const rows = await db
    .prepare(
      `SELECT org_id, id, sends, json_extract(body, '$.at') AS at, json_extract(body, '$.depth') AS depth
       FROM event_inbox WHERE state = 'queued' AND next_send_at < ? ORDER BY next_send_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<QueuedEventRef>();
  return rows.results;
}

/** Counts one more send of each queued event and sets when its next one is due, in one batch. */
export async function markResent(
  db: D1Database,
  events: readonly { org_id: string; id: string; next_send_at: string }[],
  now = isoNow(),
): Promise<void> {
  if (!events.length) return;
  await db.batch(
    events.map((e) =>
      db
        .prepare(
          `UPDATE event_inbox SET sends = sends + 1, next_send_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND state = 'queued'`,
        )
        .bind(e.next_send_at, now, e.org_id, e.id),
    ),
  );
}

/** Deletes settled events created before `before` (queued ones are kept until they settle). */
export async function pruneInbox(db: D1Database, before: string, limit: number): Promise<number> {
  const res = await db
    .prepare(
      `DELETE FROM event_inbox WHERE rowid IN (SELECT rowid FROM event_inbox WHERE created_at < ? AND state != 'queued' LIMIT ?)`,
    )
    .bind(before, limit)
    .run();
  return res.meta.changes;
}
