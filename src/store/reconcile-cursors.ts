import type { ExecutionPosition } from "./executions";

/** Where the named reconciliation sweep stopped in its last run; null: start from the beginning. */
export async function getReconcileCursor(db: D1Database, name: string): Promise<ExecutionPosition | null> {
  const row = await db
    .prepare(`SELECT after_updated, after_id FROM reconcile_cursors WHERE name = ?`)
    .bind(name)
    .first<{ after_updated: string | null; after_id: string | null }>();
  return row?.after_updated != null && row.after_id != null ? { updated_at: row.after_updated, id: row.after_id } : null;
}

/** Stores where the named sweep goes on next run; null wraps it around to the beginning. */
export async function setReconcileCursor(
  db: D1Database,
  name: string,
  position: ExecutionPosition | null,
  at: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO reconcile_cursors (name, after_updated, after_id, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET after_updated = excluded.after_updated, after_id = excluded.after_id,
         updated_at = excluded.updated_at`,
    )
    .bind(name, position?.updated_at ?? null, position?.id ?? null, at)
    .run();
}
