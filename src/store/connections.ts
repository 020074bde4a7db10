import type { ConnectionStatus } from "../schemas/integrations";

/** D1 access of `connections`: every query filters on org_id. The ciphertext never leaves services/connections.ts. */

export interface ConnectionRow {
  id: string;
  org_id: string;
  platform: string;
  name: string;
  status: ConnectionStatus;
  error_message: string | null;
  /** The config with secrets masked. */
  public_config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  created_by: string;
  last_tested_at: string | null;
  last_used_at: string | null;
}

export interface SealedConnectionRow extends ConnectionRow {
  key_id: string;
  ciphertext: string;
}

interface RawRow extends Omit<SealedConnectionRow, "public_config"> {
  public_config: string;
}

const COLUMNS =
  "id, org_id, platform, name, status, error_message, public_config, key_id, ciphertext, created_at, updated_at, created_by, last_tested_at, last_used_at";

const fromRaw = (r: RawRow): SealedConnectionRow => ({
  ...r,
  public_config: JSON.parse(r.public_config) as Record<string, unknown>,
});

export async function insertConnection(db: D1Database, row: SealedConnectionRow): Promise<void> {
  await db
    .prepare(`INSERT INTO connections (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(
      row.id,
      row.org_id,
      row.platform,
      row.name,
      row.status,
      row.error_message,
      JSON.stringify(row.public_config),
      row.key_id,
      row.ciphertext,
      row.created_at,
      row.updated_at,
      row.created_by,
      row.last_tested_at,
      row.last_used_at,
    )
    .run();
}

export async function getConnectionRow(db: D1Database, orgId: string, id: string): Promise<SealedConnectionRow | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM connections WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawRow>();
  return row ? fromRaw(row) : null;
}

export async function listConnectionRows(
  db: D1Database,
  orgId: string,
  opts: { platform?: string; limit: number; offset: number },
): Promise<{ total: number; results: SealedConnectionRow[] }> {
  const where = opts.platform ? "org_id = ? AND platform = ?" : "org_id = ?";
  const binds = opts.platform ? [orgId, opts.platform] : [orgId];
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM connections WHERE ${where}`).bind(...binds),
    db
      .prepare(`SELECT ${COLUMNS} FROM connections WHERE ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`)
      .bind(...binds, opts.limit, opts.offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as RawRow[]).map(fromRaw) };
}

/** id, name, platform and status of every connection of the org (the tool catalog's view). */
export async function connectionSummaries(
  db: D1Database,
  orgId: string,
): Promise<{ id: string; name: string; platform: string; status: ConnectionStatus }[]> {
  const { results } = await db
    .prepare(`SELECT id, name, platform, status FROM connections WHERE org_id = ? ORDER BY created_at, id`)
    .bind(orgId)
    .all<{ id: string; name: string; platform: string; status: ConnectionStatus }>();
  return results;
}

export async function countConnections(db: D1Database, orgId: string): Promise<number> {
  const row = await db.prepare(`SELECT COUNT(*) AS n FROM connections WHERE org_id = ?`).bind(orgId).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function updateConnectionRow(
  db: D1Database,
  orgId: string,
  id: string,
  patch: Partial<
    Pick<SealedConnectionRow, "name" | "status" | "error_message" | "public_config" | "key_id" | "ciphertext" | "updated_at">
  >,
): Promise<boolean> {
  const sets: string[] = [];
  const binds: unknown[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    sets.push(`${k} = ?`);
    binds.push(k === "public_config" ? JSON.stringify(v) : v);
  }
  if (sets.length === 0) return true;
  const res = await db
    .prepare(`UPDATE connections SET ${sets.join(", ")} WHERE org_id = ? AND id = ?`)
    .bind(...binds, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Records the outcome of a test or a call: status (and its message), and when. */
export async function setConnectionStatus(
  db: D1Database,
  orgId: string,
  id: string,
  status: ConnectionStatus,
  errorMessage: string | null,
  at: string,
  what: "tested" | "used",
): Promise<void> {
  const column = what === "tested" ? "last_tested_at" : "last_used_at";
  await db
    .prepare(`UPDATE connections SET status = ?, error_message = ?, ${column} = ? WHERE org_id = ? AND id = ?`)
    .bind(status, errorMessage, at, orgId, id)
    .run();
}

export async function deleteConnectionRow(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const res = await db.prepare(`DELETE FROM connections WHERE org_id = ? AND id = ?`).bind(orgId, id).run();
  return res.meta.changes > 0;
}

/** Rows sealed with a key other than `currentKeyId` (re-encryption after a rotation), a page at a time. */
export async function rowsSealedWithOtherKeys(
  db: D1Database,
  orgId: string,
  currentKeyId: string,
  afterId: string,
  limit: number,
): Promise<SealedConnectionRow[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM connections WHERE org_id = ? AND key_id != ? AND id > ? ORDER BY id LIMIT ?`)
    .bind(orgId, currentKeyId, afterId, limit)
    .all<RawRow>();
  return results.map(fromRaw);
}

/** Records a use without touching the status (a failure that says nothing about the credentials). */
export async function touchConnection(db: D1Database, orgId: string, id: string, at: string): Promise<void> {
  await db.prepare(`UPDATE connections SET last_used_at = ? WHERE org_id = ? AND id = ?`).bind(at, orgId, id).run();
}
