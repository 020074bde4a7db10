import type { Attributes } from "../schemas/records";
import type { SqlFragment } from "./record-sql";

/**
 * All SQL of the `records` table. Every statement filters on org_id. WHERE fragments come from
 * record-sql.ts and expect the table to be aliased `r`.
 */

export interface RecordRow {
  id: string;
  org_id: string;
  schema: string;
  title: string;
  tags: string[];
  data: Attributes;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  version: number;
}

interface RawRecordRow extends Omit<RecordRow, "tags" | "data" | "title"> {
  title: string | null;
  tags: string;
  data: string;
}

const COLUMNS = "r.id, r.org_id, r.schema, r.title, r.tags, r.data, r.created_at, r.updated_at, r.created_by, r.version";

const fromRaw = (r: RawRecordRow): RecordRow => ({
  ...r,
  title: r.title ?? "",
  tags: JSON.parse(r.tags) as string[],
  data: JSON.parse(r.data) as Attributes,
});

/**
 * Inserts a record; `after` statements (its event's inbox write) run in the same D1 batch, so the
 * record and its event are written together or not at all.
 */
export async function insertRecord(db: D1Database, row: RecordRow, after: D1PreparedStatement[] = []): Promise<void> {
  const insert = db
    .prepare(
      `INSERT INTO records (id, org_id, schema, title, tags, data, created_at, updated_at, created_by, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id,
      row.org_id,
      row.schema,
      row.title,
      JSON.stringify(row.tags),
      JSON.stringify(row.data),
      row.created_at,
      row.updated_at,
      row.created_by,
      row.version,
    );
  await db.batch([insert, ...after]);
}

/** One record of the org; with `schema`, a record of another schema is not found. */
/** getRecord (any schema) as a statement, to read it in one batch with other start-path reads; parse with recordFromResult. */
export function getRecordStatement(db: D1Database, orgId: string, id: string): D1PreparedStatement {
  return db.prepare(`SELECT ${COLUMNS} FROM records AS r WHERE r.org_id = ? AND r.id = ?`).bind(orgId, id);
}

export function recordFromResult(res: D1Result): RecordRow | null {
  const row = res.results[0] as RawRecordRow | undefined;
  return row ? fromRaw(row) : null;
}

export async function getRecord(db: D1Database, orgId: string, schema: string | null, id: string): Promise<RecordRow | null> {
  // Conditions are left out rather than written `? IS NULL OR …`, which would keep SQLite off the indexes.
  const row = await (
    schema === null
      ? db.prepare(`SELECT ${COLUMNS} FROM records AS r WHERE r.org_id = ? AND r.id = ?`).bind(orgId, id)
      : db.prepare(`SELECT ${COLUMNS} FROM records AS r WHERE r.org_id = ? AND r.id = ? AND r.schema = ?`).bind(orgId, id, schema)
  ).first<RawRecordRow>();
  return row ? fromRaw(row) : null;
}

/**
 * Writes a new version of a record if it is still at `expectedVersion`; false when a concurrent
 * write got there first (or the record is gone), so the caller re-reads and retries.
 */
/**
 * Updates a record if it still has `expectedVersion`; false if it changed meanwhile. `afterIfChanged`
 * statements run right after in the same D1 batch and must be guarded on the update having changed a
 * row (store/event-inbox.ts `inboxInsertStatement` with `ifChanged`).
 */
export async function updateRecordRow(
  db: D1Database,
  orgId: string,
  id: string,
  expectedVersion: number,
  next: Pick<RecordRow, "title" | "tags" | "data" | "updated_at">,
  afterIfChanged: D1PreparedStatement[] = [],
): Promise<boolean> {
  const [res] = await db.batch([
    db
      .prepare(
        `UPDATE records SET title = ?, tags = ?, data = ?, updated_at = ?, version = version + 1
         WHERE org_id = ? AND id = ? AND version = ?`,
      )
      .bind(next.title, JSON.stringify(next.tags), JSON.stringify(next.data), next.updated_at, orgId, id, expectedVersion),
    ...afterIfChanged,
  ]);
  return res.meta.changes > 0;
}

/** Deletes a record of the org and schema if it still has `expectedVersion`; `afterIfChanged` as for updateRecordRow. */
export async function deleteRecordRow(
  db: D1Database,
  orgId: string,
  schema: string,
  id: string,
  expectedVersion: number,
  afterIfChanged: D1PreparedStatement[] = [],
): Promise<boolean> {
  const [res] = await db.batch([
    db
      .prepare(`DELETE FROM records WHERE org_id = ? AND schema = ? AND id = ? AND version = ?`)
      .bind(orgId, schema, id, expectedVersion),
    ...afterIfChanged,
  ]);
  return res.meta.changes > 0;
}

/** Soft-deleted records (marked `_deleted_at`, services/records.ts) are left out of searches and selections. */
const LIVE = `json_extract(r.data, '$._deleted_at') IS NULL`;

/** A page of the org's records of one schema (or all schemas) matching `where`, newest first, with the total. */
export async function searchRecords(
  db: D1Database,
  orgId: string,
  schema: string | null,
  where: SqlFragment,
  limit: number,
  offset: number,
): Promise<{ total: number; results: RecordRow[] }> {
  const cond = `r.org_id = ?${schema === null ? "" : " AND r.schema = ?"} AND ${LIVE} AND (${where.sql})`;
  const params = [orgId, ...(schema === null ? [] : [schema]), ...where.params];
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM records AS r WHERE ${cond}`).bind(...params),
    db
      .prepare(`SELECT ${COLUMNS} FROM records AS r WHERE ${cond} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`)
      .bind(...params, limit, offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: (rows.results as RawRecordRow[]).map(fromRaw) };
}

/**
 * Keyset paging over the org's records matching `where`, in id order: the next `limit` records after
 * `afterId` (null to start). Stable while records are added or removed, unlike OFFSET paging.
 */
export async function queryRecordIds(
  db: D1Database,
  orgId: string,
  where: SqlFragment,
  afterId: string | null,
  limit: number,
): Promise<{ id: string; schema: string }[]> {
  const rows = await db
    .prepare(
      `SELECT r.id, r.schema FROM records AS r
       WHERE r.org_id = ?${afterId === null ? "" : " AND r.id > ?"} AND ${LIVE} AND (${where.sql})
       ORDER BY r.id LIMIT ?`,
    )
    .bind(orgId, ...(afterId === null ? [] : [afterId]), ...where.params, limit)
    .all<{ id: string; schema: string }>();
  return rows.results;
}

/** The org's records among `ids` (unknown or foreign ids are left out), in the order of `ids`. */
export async function getRecordsByIds(db: D1Database, orgId: string, ids: string[]): Promise<RecordRow[]> {
  if (ids.length === 0) return [];
  // The ids travel as one JSON parameter: no statement-size or parameter-count limit is approached.
  const rows = await db
    .prepare(`SELECT ${COLUMNS} FROM records AS r WHERE r.org_id = ? AND r.id IN (SELECT value FROM json_each(?))`)
    .bind(orgId, JSON.stringify(ids))
    .all<RawRecordRow>();
  const byId = new Map(rows.results.map((r) => [r.id, fromRaw(r)]));
  return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
}
