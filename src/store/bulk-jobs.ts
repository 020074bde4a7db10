import { FINAL_ITEM_SQL, isFinalItem, itemError, type BulkJobStatus } from "../engine/bulk-job";
import type { ExecutionState } from "../engine/execution/types";
import { isoNow } from "../lib/time";

/**
 * All SQL of bulk jobs (`bulk_jobs`, `bulk_job_items`). Status changes are compare-and-set updates, and
 * every counter moves in the same D1 batch (one transaction) as the item rows it counts, guarded by the
 * items' current status: replaying a batch or a queue message counts nothing twice.
 *
 * Counters: `items_dispatched` = items past pending/starting, `items_finished` = items in a final status,
 * `items_waiting` = items whose execution waits (`scheduled`, `paused`): they do not count as in flight.
 */

export type BulkQueryType = "refs" | "query" | "filter";

export interface BulkJobRow {
  id: string;
  org_id: string;
  flow_id: string;
  status: BulkJobStatus;
  created_by: string;
  task_token_hash: string;
  trigger_context: Record<string, string> | null;
  query_type: BulkQueryType;
  query_data: unknown;
  page_size: number;
  load_page_size: number;
  pages_processed: number;
  total_processed: number;
  search_after: string | null;
  has_more: boolean;
  items_total: number;
  items_dispatched: number;
  items_finished: number;
  items_waiting: number;
  report_file_entity_id: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  approved_at: string | null;
  finished_at: string | null;
}

type RawJob = Omit<BulkJobRow, "trigger_context" | "query_data" | "has_more"> & {
  trigger_context: string | null;
  query_data: string;
  has_more: number;
};

const fromRaw = (r: RawJob): BulkJobRow => ({
  ...r,
  trigger_context: r.trigger_context ? (JSON.parse(r.trigger_context) as Record<string, string>) : null,
  query_data: JSON.parse(r.query_data) as unknown,
  has_more: r.has_more === 1,
});

export interface BulkItemRow {
  entity_id: string;
  entity_schema: string | null;
  seq: number;
  execution_id: string;
  execution_status: string;
  error: string | null;
  updated_at: string;
}

const inList = (list: readonly string[]) => `(${list.map((s) => `'${s}'`).join(", ")})`;

export async function insertBulkJob(
  db: D1Database,
  j: Pick<
    BulkJobRow,
    "id" | "org_id" | "flow_id" | "created_by" | "task_token_hash" | "trigger_context" | "query_type" | "query_data"
  > & { page_size: number; load_page_size: number; now: string },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO bulk_jobs (id, org_id, flow_id, status, created_by, task_token_hash, trigger_context, query_type, query_data,
         page_size, load_page_size, created_at, updated_at)
       VALUES (?, ?, ?, 'approval', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      j.id,
      j.org_id,
      j.flow_id,
      j.created_by,
      j.task_token_hash,
      j.trigger_context ? JSON.stringify(j.trigger_context) : null,
      j.query_type,
      JSON.stringify(j.query_data),
      j.page_size,
      j.load_page_size,
      j.now,
      j.now,
    )
    .run();
}

export async function getBulkJob(db: D1Database, orgId: string, id: string): Promise<BulkJobRow | null> {
  const row = await db.prepare(`SELECT * FROM bulk_jobs WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawJob>();
  return row ? fromRaw(row) : null;
}

/** approval → querying_entities; false if the job was not waiting for approval any more. */
export async function approveBulkJob(db: D1Database, orgId: string, id: string, now: string): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE bulk_jobs SET status = 'querying_entities', approved_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status = 'approval'`,
    )
    .bind(now, now, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Any unfinished status → `to` (cancelled or failed); false if the job had already ended. */
export async function endBulkJob(
  db: D1Database,
  orgId: string,
  id: string,
  to: "cancelled" | "failed",
  error: string | null,
  now: string,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE bulk_jobs SET status = ?, error = COALESCE(?, error), finished_at = ?, updated_at = ?
       WHERE org_id = ? AND id = ? AND status NOT IN ('finished', 'failed', 'cancelled')`,
    )
    .bind(to, error, now, now, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** How many of the org's records match `where`, counting no further than `cap` (so a huge org is not scanned). */
export async function countSelection(
  db: D1Database,
  orgId: string,
  where: { sql: string; params: (string | number | null)[] },
  cap: number,
): Promise<number> {
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM records AS r WHERE r.org_id = ? AND (${where.sql}) LIMIT ?)`)
    .bind(orgId, ...where.params, cap)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export interface LoadedEntry {
  entity_id: string;
  entity_schema: string | null;
  execution_id: string;
}

/**
 * Stores one loading page as items and advances the cursor, if the job is still at page `page`
 * (compare-and-set: a redelivered or concurrent copy of the page changes nothing). The last page sets
 * `items_total` and moves the job to entities_loaded. Returns whether this call advanced the job.
 */
export async function storeLoadedPage(
  db: D1Database,
  job: BulkJobRow,
  page: number,
  entries: LoadedEntry[],
  next: { searchAfter: string | null; hasMore: boolean },
  now: string,
): Promise<boolean> {
  const atPage = `EXISTS (SELECT 1 FROM bulk_jobs WHERE id = ? AND status = 'querying_entities' AND pages_processed = ?)`;
  const [, advanced] = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO bulk_job_items (job_id, org_id, entity_id, entity_schema, seq, execution_id, execution_status, updated_at)
         SELECT ?, ?, json_extract(value, '$.entity_id'), json_extract(value, '$.entity_schema'), ? + CAST(key AS INTEGER),
                json_extract(value, '$.execution_id'), 'pending', ?
         FROM json_each(?) WHERE ${atPage}`,
      )
      .bind(job.id, job.org_id, job.total_processed, now, JSON.stringify(entries), job.id, page),
    db
      .prepare(
        `UPDATE bulk_jobs SET pages_processed = pages_processed + 1, total_processed = total_processed + ?, search_after = ?,
           has_more = ?, updated_at = ?,
           status = CASE WHEN ? THEN status ELSE 'entities_loaded' END,
           items_total = CASE WHEN ? THEN items_total ELSE (SELECT COUNT(*) FROM bulk_job_items WHERE job_id = ?) END
         WHERE org_id = ? AND id = ? AND status = 'querying_entities' AND pages_processed = ?`,
      )
      .bind(
        entries.length,
        next.searchAfter,
        next.hasMore ? 1 : 0,
        now,
        next.hasMore ? 1 : 0,
        next.hasMore ? 1 : 0,
        job.id,
        job.org_id,
        job.id,
        page,
      ),
  ]);
  return advanced.meta.changes > 0;
}

/** entities_loaded → executing (straight to send_report when no item was loaded). Returns the status now. */
export async function beginExecuting(db: D1Database, orgId: string, id: string, now: string): Promise<void> {
  await db
    .prepare(
      `UPDATE bulk_jobs SET status = CASE WHEN items_total = 0 THEN 'send_report' ELSE 'executing' END, updated_at = ?
       WHERE org_id = ? AND id = ? AND status = 'entities_loaded'`,
    )
    .bind(now, orgId, id)
    .run();
}

/** Items of one execution page (seq in [from, to)) in the given statuses. */
export async function pageItems(
  db: D1Database,
  jobId: string,
  range: { from: number; to: number },
  statuses: readonly string[],
): Promise<BulkItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT entity_id, entity_schema, seq, execution_id, execution_status, error, updated_at FROM bulk_job_items
       WHERE job_id = ? AND seq >= ? AND seq < ? AND execution_status IN ${inList(statuses)} ORDER BY seq`,
    )
    .bind(jobId, range.from, range.to)
    .all<BulkItemRow>();
  return rows.results;
}

/**
 * Statements moving the items `ids` that are in one of `from` to `to` (with `error`), counting each moved
 * item once in the job's counters. Guarded by the current status, so running them again moves nothing.
 */
export function moveItems(
  db: D1Database,
  orgId: string,
  jobId: string,
  ids: string[],
  from: readonly string[],
  to: string,
  error: string | null,
  now: string,
): D1PreparedStatement[] {
  if (ids.length === 0) return [];
  const idsJson = JSON.stringify(ids);
  const sel = `FROM bulk_job_items WHERE job_id = ? AND entity_id IN (SELECT value FROM json_each(?)) AND execution_status IN ${inList(from)}`;
  const leavesPending = to !== "pending" && to !== "starting";
  const dispatched = leavesPending ? `(SELECT COUNT(*) ${sel} AND execution_status IN ('pending', 'starting'))` : "0";
  const finished = isFinalItem(to) ? `(SELECT COUNT(*) ${sel})` : "0";
  const countParams = [...(leavesPending ? [jobId, idsJson] : []), ...(isFinalItem(to) ? [jobId, idsJson] : [])];
  const items = db
    .prepare(
      `UPDATE bulk_job_items SET execution_status = ?, error = ?, updated_at = ?
       WHERE job_id = ? AND entity_id IN (SELECT value FROM json_each(?)) AND execution_status IN ${inList(from)}`,
    )
    .bind(to, error, now, jobId, idsJson);
  // No counter moves (pending → starting): the job row is left alone, a D1 row write saved per page.
  if (!leavesPending && !isFinalItem(to)) return [items];
  return [
    db
      .prepare(
        `UPDATE bulk_jobs SET items_dispatched = items_dispatched + ${dispatched}, items_finished = items_finished + ${finished},
           updated_at = ? WHERE org_id = ? AND id = ?`,
      )
      .bind(...countParams, now, orgId, jobId),
    items,
  ];
}

/** Runs statements in one batch (one transaction); an empty list is nothing to do (D1 refuses an empty batch). */
export async function runBatch(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  if (statements.length) await db.batch(statements);
}

/**
 * executing → monitoring once every item was dispatched, or straight to send_report if every item is
 * also final already. Returns the job's status afterwards.
 */
export async function finishDispatching(db: D1Database, orgId: string, id: string, now: string): Promise<BulkJobStatus | null> {
  const [, row] = await db.batch([
    db
      .prepare(
        `UPDATE bulk_jobs SET status = CASE WHEN items_finished >= items_total THEN 'send_report' ELSE 'monitoring' END, updated_at = ?
         WHERE org_id = ? AND id = ? AND status = 'executing' AND items_dispatched >= items_total`,
      )
      .bind(now, orgId, id),
    db.prepare(`SELECT status FROM bulk_jobs WHERE org_id = ? AND id = ?`).bind(orgId, id),
  ]);
  return (row.results[0] as { status: BulkJobStatus } | undefined)?.status ?? null;
}

/** The next unfinished items after position `afterSeq`, in seq order (for cancelling). */
export async function unfinishedItems(db: D1Database, jobId: string, afterSeq: number, limit: number): Promise<BulkItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT entity_id, entity_schema, seq, execution_id, execution_status, error, updated_at FROM bulk_job_items
       WHERE job_id = ? AND seq > ? AND execution_status NOT IN ${FINAL_ITEM_SQL} ORDER BY seq LIMIT ?`,
    )
    .bind(jobId, afterSeq, limit)
    .all<BulkItemRow>();
  return rows.results;
}

/** Number of items per execution status. */
export async function itemStatusCounts(db: D1Database, jobId: string): Promise<Record<string, number>> {
  const rows = await db
    .prepare(`SELECT execution_status AS s, COUNT(*) AS n FROM bulk_job_items WHERE job_id = ? GROUP BY execution_status`)
    .bind(jobId)
    .all<{ s: string; n: number }>();
  return Object.fromEntries(rows.results.map((r) => [r.s, r.n]));
}

/** A page of items from position `from` (keyset on seq), optionally of one status. */
export async function itemsPage(
  db: D1Database,
  jobId: string,
  from: number,
  size: number,
  status?: string,
): Promise<BulkItemRow[]> {
  const rows = await db
    .prepare(
      `SELECT entity_id, entity_schema, seq, execution_id, execution_status, error, updated_at FROM bulk_job_items
       WHERE job_id = ? AND seq >= ?${status ? " AND execution_status = ?" : ""} ORDER BY seq LIMIT ?`,
    )
    .bind(jobId, from, ...(status ? [status] : []), size)
    .all<BulkItemRow>();
  return rows.results;
}

/** send_report → finished with the report record; false if another consumer finished it first. */
export async function finishWithReport(
  db: D1Database,
  orgId: string,
  id: string,
  reportId: string,
  now: string,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE bulk_jobs SET status = 'finished', report_file_entity_id = ?, finished_at = ?, updated_at = ?
       WHERE org_id = ? AND id = ? AND status = 'send_report' AND report_file_entity_id IS NULL`,
    )
    .bind(reportId, now, now, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Item statuses of an execution that waits for time or a resume: it holds no room in the job's window. */
const WAITING = ["scheduled", "paused"] as const;
const RUNNING = ["pending", "starting", "in_progress"] as const;

/**
 * Bulk bookkeeping of an execution's summary, run in the same D1 batch as it (ExecutionObject
 * flushOutbox), so the item follows its execution exactly once whatever is replayed. Every statement is
 * guarded by the item's current status:
 *   - final: the item takes the execution's final status and counts as finished (and no longer waiting);
 *     the last one moves a monitoring job to send_report, and the final SELECT tells the caller whether
 *     the report is due;
 *   - waiting (`scheduled`, `paused`): the item counts as waiting, which frees its room in the window;
 *   - running again after a wait: the item counts as in flight again.
 * Empty unless the execution belongs to a bulk job.
 */
export function bulkItemStatements(db: D1Database, s: ExecutionState): D1PreparedStatement[] {
  const jobId = s.trigger_event.bulk_job_id;
  if (typeof jobId !== "string" || !s.entity_id) return [];
  const now = isoNow(s.finished_at ?? s.updated_at);
  const item = `FROM bulk_job_items WHERE job_id = ? AND entity_id = ? AND execution_id = ?`;
  const itemParams = [jobId, s.entity_id, s.id];
  const countIn = (list: readonly string[]) => `(SELECT COUNT(*) ${item} AND execution_status IN ${inList(list)})`;
  const job = (set: string, guard: readonly string[] | "unfinished", params: unknown[]) =>
    db
      .prepare(
        `UPDATE bulk_jobs SET ${set}, updated_at = ? WHERE org_id = ? AND id = ? AND EXISTS (SELECT 1 ${item} AND execution_status ${
          guard === "unfinished" ? `NOT IN ${FINAL_ITEM_SQL}` : `IN ${inList(guard)}`
        })`,
      )
      .bind(...params, now, s.org_id, jobId, ...itemParams);
  const moveItem = (guard: readonly string[] | "unfinished", error: string | null) =>
    db
      .prepare(
        `UPDATE bulk_job_items SET execution_status = ?, error = ?, updated_at = ? WHERE job_id = ? AND entity_id = ? AND execution_id = ?
           AND execution_status ${guard === "unfinished" ? `NOT IN ${FINAL_ITEM_SQL}` : `IN ${inList(guard)}`}`,
      )
      .bind(s.status, error, now, ...itemParams);
  const dispatched = `items_dispatched = items_dispatched + ${countIn(["pending", "starting"])}`;

  if (isFinalItem(s.status)) {
    return [
      job(
        `items_finished = items_finished + 1, items_waiting = items_waiting - ${countIn(WAITING)}, ${dispatched}`,
        "unfinished",
        [...itemParams, ...itemParams],
      ),
      moveItem("unfinished", itemError(s.last_error)),
      db
        .prepare(
          `UPDATE bulk_jobs SET status = 'send_report', updated_at = ?
           WHERE org_id = ? AND id = ? AND status = 'monitoring' AND items_finished >= items_total`,
        )
        .bind(now, s.org_id, jobId),
      db
        .prepare(`SELECT id, org_id, status, report_file_entity_id FROM bulk_jobs WHERE org_id = ? AND id = ?`)
        .bind(s.org_id, jobId),
    ];
  }
  if ((WAITING as readonly string[]).includes(s.status)) {
    return [
      job(`items_waiting = items_waiting + 1, ${dispatched}`, RUNNING, itemParams),
      // From one wait to another (scheduled → paused) only the status changes.
      moveItem([...RUNNING, ...WAITING], null),
    ];
  }
  if (s.status === "in_progress") {
    return [job(`items_waiting = items_waiting - 1`, WAITING, []), moveItem(WAITING, null)];
  }
  return [];
}

/** A job the reconciliation looks at: loading, executing or waiting for its report, unchanged since before `before`. */
export interface StaleBulkJob {
  id: string;
  org_id: string;
  status: "querying_entities" | "entities_loaded" | "executing" | "send_report";
}

export async function listStaleBulkJobs(db: D1Database, before: string, limit: number): Promise<StaleBulkJob[]> {
  const rows = await db
    .prepare(
      `SELECT id, org_id, status FROM bulk_jobs
       WHERE (status IN ('querying_entities', 'entities_loaded', 'executing') OR (status = 'send_report' AND report_file_entity_id IS NULL))
         AND updated_at < ?
       ORDER BY updated_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<StaleBulkJob>();
  return rows.results;
}

/** The position of the job's first item not yet started, or null when every item was. */
export async function firstUnstartedSeq(db: D1Database, jobId: string): Promise<number | null> {
  const row = await db
    .prepare(
      `SELECT seq FROM bulk_job_items WHERE job_id = ? AND execution_status IN ('pending', 'starting') ORDER BY seq LIMIT 1`,
    )
    .bind(jobId)
    .first<{ seq: number }>();
  return row?.seq ?? null;
}

/** Marks that the reconciliation looked at the job, so it looks again only after another quiet period. */
export async function touchBulkJob(db: D1Database, orgId: string, id: string, now: string): Promise<void> {
  await db.prepare(`UPDATE bulk_jobs SET updated_at = ? WHERE org_id = ? AND id = ?`).bind(now, orgId, id).run();
}
