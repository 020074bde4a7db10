import { isoNow } from "../lib/time";

export async function recordQueueFailure(
  db: D1Database,
  queue: string,
  key: string,
  orgId: string | null,
  attempts: number,
  error: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO queue_failures (queue, message_key, org_id, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (queue, message_key) DO UPDATE SET attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at`,
    )
    .bind(queue, key, orgId, attempts, error.slice(0, 2000), isoNow())
    .run();
}

/** Records a message that gave up, with the last error seen for it (idempotent per message). */
export async function recordDeadLetter(
  db: D1Database,
  queue: string,
  key: string,
  orgId: string | null,
  body: unknown,
  attempts: number,
  fallbackReason: string,
): Promise<void> {
  const last = await db
    .prepare(`SELECT last_error FROM queue_failures WHERE queue = ? AND message_key = ?`)
    .bind(queue, key)
    .first<{ last_error: string }>();
  await db
    .prepare(
      `INSERT INTO dead_letters (queue, message_key, org_id, body, reason, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (queue, message_key) DO NOTHING`,
    )
    .bind(queue, key, orgId, JSON.stringify(body).slice(0, 100_000), last?.last_error ?? fallbackReason, attempts, isoNow())
    .run();
}
