import { isoNow } from "../lib/time";

export async function storeEvent(db: D1Database, id: string, orgId: string, body: string): Promise<void> {
  await db
    .prepare(`INSERT INTO stored_events (id, org_id, body, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
    .bind(id, orgId, body, isoNow())
    .run();
}

export async function loadStoredEvent(db: D1Database, orgId: string, id: string): Promise<string | null> {
  const row = await db
    .prepare(`SELECT body FROM stored_events WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<{ body: string }>();
  return row?.body ?? null;
}

export async function pruneStoredEvents(db: D1Database, before: string, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM stored_events WHERE id IN (SELECT id FROM stored_events WHERE created_at < ? LIMIT ?)`)
    .bind(before, limit)
    .run();
  return res.meta.changes;
}
