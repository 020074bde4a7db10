import type { Scope } from "../lib/principal";

export interface ApiKeyRow {
  id: string;
  org_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface RawApiKeyRow extends Omit<ApiKeyRow, "scopes"> {
  scopes: string;
}

const COLUMNS = "id, org_id, name, prefix, scopes, created_at, created_by, last_used_at, revoked_at";

const fromRaw = (r: RawApiKeyRow): ApiKeyRow => ({ ...r, scopes: JSON.parse(r.scopes) as Scope[] });

export async function insertApiKey(db: D1Database, row: ApiKeyRow & { key_hash: string }): Promise<void> {
  await db
    .prepare(
      `INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(row.id, row.org_id, row.name, row.prefix, row.key_hash, JSON.stringify(row.scopes), row.created_at, row.created_by)
    .run();
}

/**
 * The key for authentication, with whether its org was deleted: one statement, so an API-key request
 * costs one D1 read (plus the last-used write at most once a minute, see touchApiKey).
 */
export async function findApiKeyForAuth(db: D1Database, keyHash: string): Promise<(ApiKeyRow & { org_deleted: boolean }) | null> {
  const row = await db
    .prepare(
      `SELECT ${COLUMNS}, EXISTS (SELECT 1 FROM organizations o WHERE o.id = api_keys.org_id AND o.status = 'deleted') AS org_deleted
       FROM api_keys WHERE key_hash = ?`,
    )
    .bind(keyHash)
    .first<RawApiKeyRow & { org_deleted: number }>();
  return row ? { ...fromRaw(row), org_deleted: row.org_deleted === 1 } : null;
}

/** Whether touchApiKey would change the row: last use unknown or more than a minute before `at`. */
export const apiKeyTouchDue = (lastUsedAt: string | null, at: string): boolean =>
  lastUsedAt === null || lastUsedAt < new Date(Date.parse(at) - 60_000).toISOString();

export async function listApiKeys(
  db: D1Database,
  orgId: string,
  limit: number,
  offset: number,
): Promise<{ total: number; results: ApiKeyRow[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ?`).bind(orgId),
    db
      .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?`)
      .bind(orgId, limit, offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as RawApiKeyRow[]).map(fromRaw) };
}

export async function countActiveApiKeys(db: D1Database, orgId: string): Promise<number> {
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ? AND revoked_at IS NULL`)
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function getApiKey(db: D1Database, orgId: string, id: string): Promise<ApiKeyRow | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? AND id = ?`)
    .bind(orgId, id)
    .first<RawApiKeyRow>();
  return row ? fromRaw(row) : null;
}

/** Marks a key revoked; returns false if the org has no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(db: D1Database, orgId: string, id: string, at: string): Promise<boolean> {
  const res = await db
    .prepare(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND id = ?`)
    .bind(at, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Records use at most once a minute per key, so authentication stays a read in the common case. */
export async function touchApiKey(db: D1Database, id: string, at: string): Promise<void> {
  await db
    .prepare(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`)
    .bind(at, id, new Date(Date.parse(at) - 60_000).toISOString())
    .run();
}
