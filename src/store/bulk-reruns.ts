import type { BulkRerunPreview, BulkRerunStatus, RerunItemStatus } from "../engine/reruns/bulk-rerun";

/**
 * All SQL of bulk reruns (`bulk_reruns`, `bulk_rerun_items`) and the selection of the executions they rerun.
 * Status changes are compare-and-set updates guarded by the current status: a replayed message changes nothing.
 */

export interface RerunFilter {
  status: string[];
  created_after?: string;
  created_before?: string;
  error_code?: string;
  action_id?: string;
}

export interface BulkRerunRow {
  id: string;
  org_id: string;
  flow_id: string;
  status: BulkRerunStatus;
  created_by: string;
  task_token_hash: string;
  filter: RerunFilter;
  retry_strategy: string;
  from_action_id: string | null;
  reuse_outputs: string[];
  preview: BulkRerunPreview;
  page_size: number;
  items_total: number;
  error: string | null;
  created_at: string;
  updated_at: string;
  approved_at: string | null;
  finished_at: string | null;
}

type RawRerun = Omit<BulkRerunRow, "filter" | "reuse_outputs" | "preview"> & {
  filter: string;
  reuse_outputs: string;
  preview: string;
};

const fromRaw = (r: RawRerun): BulkRerunRow => ({
  ...r,
  filter: JSON.parse(r.filter) as RerunFilter,
  reuse_outputs: JSON.parse(r.reuse_outputs) as string[],
  preview: JSON.parse(r.preview) as BulkRerunPreview,
});

export interface RerunItemRow {
  seq: number;
  execution_id: string;
  action_id: string;
  status: RerunItemStatus;
  effects: number;
  error: string | null;
  updated_at: string;
  /** The execution's status now (its D1 summary). */
  execution_status: string | null;
}

export interface RerunCandidate {
  id: string;
  status: string;
  actions_summary: { id: string; execution_status: string }[];
}

/**
 * The flow's executions matching the filter, oldest first, at most `cap`: in one of `status`, created in
 * [created_after, created_before), failed with `error_code`, or whose action `action_id` failed.
 */
export async function selectRerunCandidates(
  db: D1Database,
  orgId: string,
  flowId: string,
  f: RerunFilter,
  cap: number,
): Promise<RerunCandidate[]> {
  const where = ["org_id = ?", "flow_id = ?", `status IN (${f.status.map(() => "?").join(", ")})`];
  const params: (string | number)[] = [orgId, flowId, ...f.status];
  const add = (sql: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params.push(value);
  };
  add("created_at >= ?", f.created_after);
  add("created_at < ?", f.created_before);
  add("json_extract(last_error, '$.error_code') = ?", f.error_code);
  add(
    `EXISTS (SELECT 1 FROM json_each(actions_summary) AS j
              WHERE json_extract(j.value, '$.id') = ? AND json_extract(j.value, '$.execution_status') = 'failed')`,
    f.action_id,
  );
  const rows = await db
    .prepare(`SELECT id, status, actions_summary FROM executions WHERE ${where.join(" AND ")} ORDER BY created_at, id LIMIT ?`)
    .bind(...params, cap)
    .all<{ id: string; status: string; actions_summary: string }>();
  return rows.results.map((r) => ({ ...r, actions_summary: JSON.parse(r.actions_summary) as RerunCandidate["actions_summary"] }));
}

export interface NewRerunItem {
  execution_id: string;
  action_id: string;
  status: "pending" | "refused";
  effects: number;
  error: string | null;
}

/** The job (in `approval`) and its items, in one batch. */
export async function insertBulkRerun(
  db: D1Database,
  j: Omit<BulkRerunRow, "status" | "error" | "updated_at" | "approved_at" | "finished_at">,
  items: NewRerunItem[],
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO bulk_reruns (id, org_id, flow_id, status, created_by, task_token_hash, filter, retry_strategy, from_action_id,
           reuse_outputs, preview, page_size, items_total, created_at, updated_at)
         VALUES (?, ?, ?, 'approval', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        j.id,
        j.org_id,
        j.flow_id,
        j.created_by,
        j.task_token_hash,
        JSON.stringify(j.filter),
        j.retry_strategy,
        j.from_action_id,
        JSON.stringify(j.reuse_outputs),
        JSON.stringify(j.preview),
        j.page_size,
        j.items_total,
        j.created_at,
        j.created_at,
      ),
    db
      .prepare(
        `INSERT INTO bulk_rerun_items (job_id, seq, org_id, execution_id, action_id, status, effects, error, updated_at)
         SELECT ?, CAST(key AS INTEGER), ?, json_extract(value, '$.execution_id'), json_extract(value, '$.action_id'),
                json_extract(value, '$.status'), json_extract(value, '$.effects'), json_extract(value, '$.error'), ?
         FROM json_each(?)`,
      )
      .bind(j.id, j.org_id, j.created_at, JSON.stringify(items)),
  ]);
}

export async function getBulkRerun(db: D1Database, orgId: string, id: string): Promise<BulkRerunRow | null> {
  const row = await db.prepare(`SELECT * FROM bulk_reruns WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawRerun>();
  return row ? fromRaw(row) : null;
}

/** approval → running; false if the job was not waiting for approval any more. */
export async function approveBulkRerun(db: D1Database, orgId: string, id: string, now: string): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE bulk_reruns SET status = 'running', approved_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status = 'approval'`,
    )
    .bind(now, now, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Any unfinished status → `to`; false if the job had already ended. */
export async function endBulkRerun(
  db: D1Database,
  orgId: string,
  id: string,
  to: "cancelled" | "failed",
  error: string | null,
  now: string,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE bulk_reruns SET status = ?, error = COALESCE(?, error), finished_at = ?, updated_at = ?
       WHERE org_id = ? AND id = ? AND status IN ('approval', 'running')`,
    )
    .bind(to, error, now, now, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** running → finished once no item is pending or starting; returns the job's status after. */
export async function finishBulkRerunIfDone(
  db: D1Database,
  orgId: string,
  id: string,
  now: string,
): Promise<BulkRerunStatus | null> {
  const [, row] = await db.batch([
    db
      .prepare(
        `UPDATE bulk_reruns SET status = 'finished', finished_at = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND status = 'running'
           AND NOT EXISTS (SELECT 1 FROM bulk_rerun_items WHERE job_id = ? AND status IN ('pending', 'starting'))`,
      )
      .bind(now, now, orgId, id, id),
    db.prepare(`SELECT status FROM bulk_reruns WHERE org_id = ? AND id = ?`).bind(orgId, id),
  ]);
  return (row.results[0] as { status: BulkRerunStatus } | undefined)?.status ?? null;
}

/** Items of the job with seq in [from, to) in one of `statuses`. */
export async function rerunItemsIn(
  db: D1Database,
  jobId: string,
  range: { from: number; to: number },
  statuses: RerunItemStatus[],
): Promise<RerunItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT seq, execution_id, action_id, status, effects, error, updated_at, NULL AS execution_status FROM bulk_rerun_items
       WHERE job_id = ? AND seq >= ? AND seq < ? AND status IN (${statuses.map(() => "?").join(", ")}) ORDER BY seq`,
    )
    .bind(jobId, range.from, range.to, ...statuses)
    .all<RerunItemRow>();
  return rows.results;
}

/** Moves items (by seq) from one of `from` to `to`, with an error; touches the job (the reconciliation's liveness mark). */
export function moveRerunItems(
  db: D1Database,
  job: Pick<BulkRerunRow, "id" | "org_id">,
  seqs: number[],
  from: RerunItemStatus[],
  to: RerunItemStatus,
  error: string | null,
  now: string,
): D1PreparedStatement[] {
  if (seqs.length === 0) return [];
  return [
    db
      .prepare(
        `UPDATE bulk_rerun_items SET status = ?, error = ?, updated_at = ?
         WHERE job_id = ? AND seq IN (SELECT value FROM json_each(?)) AND status IN (${from.map(() => "?").join(", ")})`,
      )
      .bind(to, error, now, job.id, JSON.stringify(seqs), ...from),
    db.prepare(`UPDATE bulk_reruns SET updated_at = ? WHERE org_id = ? AND id = ?`).bind(now, job.org_id, job.id),
  ];
}

export async function runRerunBatch(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  if (statements.length) await db.batch(statements);
}

/** Items per status. */
export async function rerunItemCounts(db: D1Database, jobId: string): Promise<Record<string, number>> {
  const rows = await db
    .prepare(`SELECT status AS s, COUNT(*) AS n FROM bulk_rerun_items WHERE job_id = ? GROUP BY status`)
    .bind(jobId)
    .all<{ s: string; n: number }>();
  return Object.fromEntries(rows.results.map((r) => [r.s, r.n]));
}

/** A page of items from seq `from`, with each execution's current status. */
export async function rerunItemsPage(
  db: D1Database,
  job: Pick<BulkRerunRow, "id" | "org_id">,
  from: number,
  size: number,
): Promise<RerunItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT i.seq, i.execution_id, i.action_id, i.status, i.effects, i.error, i.updated_at, e.status AS execution_status
         FROM bulk_rerun_items i LEFT JOIN executions e ON e.org_id = ? AND e.id = i.execution_id
        WHERE i.job_id = ? AND i.seq >= ? ORDER BY i.seq LIMIT ?`,
    )
    .bind(job.org_id, job.id, from, size)
    .all<RerunItemRow>();
  return rows.results;
}

/** Items a cancel must still look at (retriggered executions may be running), from seq `afterSeq`. */
export async function retriggeredItems(db: D1Database, jobId: string, afterSeq: number, limit: number): Promise<RerunItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT seq, execution_id, action_id, status, effects, error, updated_at, NULL AS execution_status FROM bulk_rerun_items
       WHERE job_id = ? AND seq > ? AND status IN ('retriggered', 'starting') ORDER BY seq LIMIT ?`,
    )
    .bind(jobId, afterSeq, limit)
    .all<RerunItemRow>();
  return rows.results;
}

/** Running jobs unchanged since `before` (a lost message): the reconciliation sends their next page again. */
export async function listStaleBulkReruns(
  db: D1Database,
  before: string,
  limit: number,
): Promise<{ id: string; org_id: string }[]> {
  const rows = await db
    .prepare(`SELECT id, org_id FROM bulk_reruns WHERE status = 'running' AND updated_at < ? ORDER BY updated_at LIMIT ?`)
    .bind(before, limit)
    .all<{ id: string; org_id: string }>();
  return rows.results;
}

/** The seq of the job's first item not yet retriggered, or null. */
export async function firstPendingRerunSeq(db: D1Database, jobId: string): Promise<number | null> {
  const row = await db
    .prepare(`SELECT seq FROM bulk_rerun_items WHERE job_id = ? AND status IN ('pending', 'starting') ORDER BY seq LIMIT 1`)
    .bind(jobId)
    .first<{ seq: number }>();
  return row?.seq ?? null;
}

export async function touchBulkRerun(db: D1Database, orgId: string, id: string, now: string): Promise<void> {
  await db.prepare(`UPDATE bulk_reruns SET updated_at = ? WHERE org_id = ? AND id = ?`).bind(now, orgId, id).run();
}
