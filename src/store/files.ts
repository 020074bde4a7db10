/**
 * The metadata of platform files (table `files`, migration 0060); the bytes are in R2 under `<org_id>/<id>`
 * (services/files.ts). Every statement filters on org_id.
 */

export const FILE_SOURCES = ["upload", "document", "email"] as const;
export type FileSource = (typeof FILE_SOURCES)[number];

export interface FileRow {
  id: string;
  org_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  entity_schema: string | null;
  entity_id: string | null;
  tags: string[];
  source: FileSource;
  created_by: string;
  created_at: string;
}

type RawFileRow = Omit<FileRow, "tags"> & { tags: string };

const COLUMNS =
  "id, org_id, filename, content_type, size, sha256, entity_schema, entity_id, tags, source, created_by, created_at";

const fromRaw = (r: RawFileRow): FileRow => ({ ...r, tags: JSON.parse(r.tags) as string[] });

/** Inserts the row, or replaces the one with the same id (a retried action writing the same file again). */
export async function upsertFile(db: D1Database, row: FileRow): Promise<void> {
  await db
    .prepare(
      `INSERT INTO files (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (org_id, id) DO UPDATE SET filename = excluded.filename, content_type = excluded.content_type,
         size = excluded.size, sha256 = excluded.sha256, entity_schema = excluded.entity_schema,
         entity_id = excluded.entity_id, tags = excluded.tags`,
    )
    .bind(
      row.id,
      row.org_id,
      row.filename,
      row.content_type,
      row.size,
      row.sha256,
      row.entity_schema,
      row.entity_id,
      JSON.stringify(row.tags),
      row.source,
      row.created_by,
      row.created_at,
    )
    .run();
}

export async function getFileRow(db: D1Database, orgId: string, id: string): Promise<FileRow | null> {
  const raw = await db.prepare(`SELECT ${COLUMNS} FROM files WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawFileRow>();
  return raw ? fromRaw(raw) : null;
}

/** The org's files among `ids`, in the order of `ids` (unknown ids left out). */
export async function getFileRows(db: D1Database, orgId: string, ids: string[]): Promise<FileRow[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .prepare(`SELECT ${COLUMNS} FROM files WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))`)
    .bind(orgId, JSON.stringify(ids))
    .all<RawFileRow>();
  const byId = new Map(rows.results.map((r) => [r.id, fromRaw(r)]));
  return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
}

/** A page of the org's files (all, or those attached to one record), oldest first, with the total. */
export async function listFileRows(
  db: D1Database,
  orgId: string,
  opts: { entityId?: string; limit: number; offset: number },
): Promise<{ total: number; results: FileRow[] }> {
  const where = opts.entityId === undefined ? "org_id = ?" : "org_id = ? AND entity_id = ?";
  const binds = opts.entityId === undefined ? [orgId] : [orgId, opts.entityId];
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM files WHERE ${where}`).bind(...binds),
    db
      .prepare(`SELECT ${COLUMNS} FROM files WHERE ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`)
      .bind(...binds, opts.limit, opts.offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as RawFileRow[]).map(fromRaw) };
}

export async function deleteFileRow(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const res = await db.prepare(`DELETE FROM files WHERE org_id = ? AND id = ?`).bind(orgId, id).run();
  return res.meta.changes > 0;
}
