import type { ErrorOutput, ExecutionState } from "../engine/execution/types";
import { isoNow } from "../lib/time";

export interface ExecutionRow {
  id: string;
  org_id: string;
  flow_id: string;
  flow_name: string;
  flow_version: number;
  entity_id: string;
  status: string;
  current_action_id: string | null;
  trigger_type: string | null;
  actions_total: number;
  actions_executed: number;
  actions_failed: number;
  actions_skipped: number;
  actions_summary: { id: string; type: string; name?: string; execution_status: string }[];
  last_error: ErrorOutput | null;
  parent_execution_id: string | null;
  depth: number;
  bulk_job_id: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

type RawRow = Omit<ExecutionRow, "actions_summary" | "last_error"> & { actions_summary: string; last_error: string | null };
const fromRaw = (r: RawRow): ExecutionRow => ({
  ...r,
  actions_summary: JSON.parse(r.actions_summary),
  last_error: r.last_error ? JSON.parse(r.last_error) : null,
});

const iso = (ms: number | undefined) => (ms === undefined ? null : isoNow(ms));

/** The index row of an execution's state: what summaryStatement writes (and what a deferred row reads as). */
export function summaryRow(s: ExecutionState): ExecutionRow {
  const count = (pred: (st: string) => boolean) => s.actions.filter((a) => pred(a.execution_status)).length;
  const chain = (s.workflow_context?._execution_chain ?? {}) as { parent_execution_id?: string };
  return {
    id: s.id,
    org_id: s.org_id,
    flow_id: s.flow.id,
    flow_name: s.flow.flow_name,
    flow_version: s.flow.version,
    entity_id: s.entity_id,
    status: s.status,
    current_action_id: s.actions[s.cursor]?.id ?? null,
    trigger_type: typeof s.trigger_event.type === "string" ? s.trigger_event.type : null,
    actions_total: s.actions.length,
    actions_executed: count((st) => st === "success" || st === "failed"),
    actions_failed: count((st) => st === "failed"),
    actions_skipped: count((st) => st === "skipped" || st === "cancelled"),
    actions_summary: s.actions.map((a) => ({ id: a.id, type: a.type, name: a.name, execution_status: a.execution_status })),
    last_error: s.last_error ?? null,
    parent_execution_id: chain.parent_execution_id ?? null,
    depth: s.depth,
    bulk_job_id: typeof s.trigger_event.bulk_job_id === "string" ? s.trigger_event.bulk_job_id : null,
    created_at: isoNow(s.created_at),
    updated_at: isoNow(s.updated_at),
    started_at: iso(s.started_at),
    finished_at: iso(s.finished_at),
  };
}

/**
 * The D1 summary of an execution's state: one upsert, ignored if a newer state was already written.
 * `counted`: the finish is counted in the flow's statistics by the statements before it in the same
 * batch (store/flow-stats.ts), so the row records that (`stats_seq`, and the status it was counted as,
 * `counted_status`) and a replay counts nothing twice; a retriggered execution's next finish replaces it.
 */
export function summaryStatement(db: D1Database, s: ExecutionState, counted = false): D1PreparedStatement {
  const r = summaryRow(s);
  return db
    .prepare(
      `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, current_action_id, trigger_type,
         actions_total, actions_executed, actions_failed, actions_skipped, actions_summary, last_error, parent_execution_id,
         depth, bulk_job_id, seq, created_at, updated_at, started_at, finished_at, stats_seq, counted_status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, current_action_id = excluded.current_action_id,
         actions_executed = excluded.actions_executed, actions_failed = excluded.actions_failed,
         actions_skipped = excluded.actions_skipped, actions_summary = excluded.actions_summary,
         last_error = excluded.last_error, seq = excluded.seq, updated_at = excluded.updated_at,
         started_at = excluded.started_at, finished_at = excluded.finished_at,
         stats_seq = MAX(executions.stats_seq, excluded.stats_seq),
         counted_status = COALESCE(excluded.counted_status, executions.counted_status)
       WHERE excluded.seq >= executions.seq`,
    )
    .bind(
      r.id,
      r.org_id,
      r.flow_id,
      r.flow_name,
      r.flow_version,
      r.entity_id,
      r.status,
      r.current_action_id,
      r.trigger_type,
      r.actions_total,
      r.actions_executed,
      r.actions_failed,
      r.actions_skipped,
      JSON.stringify(r.actions_summary),
      r.last_error ? JSON.stringify(r.last_error) : null,
      r.parent_execution_id,
      r.depth,
      r.bulk_job_id,
      s.seq,
      r.created_at,
      r.updated_at,
      r.started_at,
      r.finished_at,
      counted ? s.seq : -1,
      counted ? s.status : null,
    );
}

export async function getExecutionRow(db: D1Database, orgId: string, id: string): Promise<ExecutionRow | null> {
  const row = await db.prepare(`SELECT * FROM executions WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawRow>();
  return row ? fromRaw(row) : null;
}

/** For the public resume endpoint, which is authenticated by the token alone (the token names the execution). */
export async function getExecutionRowAnyOrg(db: D1Database, id: string): Promise<ExecutionRow | null> {
  const row = await db.prepare(`SELECT * FROM executions WHERE id = ?`).bind(id).first<RawRow>();
  return row ? fromRaw(row) : null;
}

export interface ExecutionFilter {
  orgId: string;
  entityId?: string;
  flowId?: string;
  statuses?: string[];
  since?: string;
  limit: number;
  offset: number;
}

export async function listExecutions(db: D1Database, f: ExecutionFilter): Promise<{ total: number; results: ExecutionRow[] }> {
  const where = ["org_id = ?"];
  const args: unknown[] = [f.orgId];
  const add = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    args.push(...values);
  };
  if (f.entityId) add("entity_id = ?", f.entityId);
  if (f.flowId) add("flow_id = ?", f.flowId);
  if (f.statuses?.length) add(`status IN (${f.statuses.map(() => "?").join(", ")})`, ...f.statuses);
  if (f.since) add("created_at >= ?", f.since);
  const clause = where.join(" AND ");
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM executions WHERE ${clause}`).bind(...args),
    db
      .prepare(`SELECT * FROM executions WHERE ${clause} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`)
      .bind(...args, f.limit, f.offset),
  ]);
  return {
    total: (count.results[0] as { n: number } | undefined)?.n ?? 0,
    results: (rows.results as RawRow[]).map(fromRaw),
  };
}

/** An unfinished execution the reconciler checks, with the summary time it was listed at. */
export interface StaleExecutionRow {
  id: string;
  org_id: string;
  status: string;
  updated_at: string;
}

/** Where a reconciliation sweep stopped: the (updated_at, id) of the last row it checked. */
export interface ExecutionPosition {
  updated_at: string;
  id: string;
}

/**
 * One page of executions in one of `statuses` whose summary has not changed since `staleBefore` (ISO),
 * in (updated_at, id) order after `after` (from the start when null). One sub-select per status keeps
 * each on the (status, updated_at) index. Executions waiting for a slot of their flow's
 * concurrency_limit (or admitted, their start not yet confirmed) are left out: their index row is
 * `pending` with no object yet, legitimately, and the admission repair owns them.
 */
export async function listStaleExecutionsPage(
  db: D1Database,
  statuses: readonly string[],
  staleBefore: string,
  after: ExecutionPosition | null,
  limit: number,
): Promise<StaleExecutionRow[]> {
  // The empty position sorts before every row, so the first page needs no other statement.
  const from = after ?? { updated_at: "", id: "" };
  const one = `SELECT * FROM (SELECT id, org_id, status, updated_at FROM executions
      WHERE status = ? AND updated_at < ? AND updated_at >= ? AND (updated_at > ? OR id > ?)
        AND NOT EXISTS (SELECT 1 FROM admission_queue a WHERE a.execution_id = executions.id AND a.state IN ('waiting', 'admitted'))
      ORDER BY updated_at, id LIMIT ?)`;
  const rows = await db
    .prepare(`${statuses.map(() => one).join(" UNION ALL ")} ORDER BY updated_at, id LIMIT ?`)
    .bind(...statuses.flatMap((s) => [s, staleBefore, from.updated_at, from.updated_at, from.id, limit]), limit)
    .all<StaleExecutionRow>();
  return rows.results;
}

/** Deletes finished executions older than the retention cutoff (ISO); returns how many went. */
/**
 * Deletes up to `limit` finished executions whose last change is before `finishedBefore`. Found through
 * the (status, updated_at) index: a finished execution's last summary is its finish.
 */
export async function pruneExecutions(db: D1Database, finishedBefore: string, limit: number): Promise<number> {
  const res = await db
    .prepare(
      `DELETE FROM executions WHERE id IN (
         SELECT id FROM executions WHERE status IN ('success', 'failed', 'cancelled', 'skipped', 'hot') AND updated_at < ? LIMIT ?)`,
    )
    .bind(finishedBefore, limit)
    .run();
  return res.meta.changes;
}

/** Deletes up to `limit` idempotency keys older than `beforeMs` (a key only counts for 24 hours). */
export async function pruneIdempotencyKeys(db: D1Database, beforeMs: number, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)`)
    .bind(beforeMs, limit)
    .run();
  return res.meta.changes;
}

export async function findIdempotentExecution(
  db: D1Database,
  orgId: string,
  scope: string,
  key: string,
  notBefore: number,
): Promise<string | null> {
  const row = await db
    .prepare(`SELECT execution_id FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key = ? AND created_at >= ?`)
    .bind(orgId, scope, key, notBefore)
    .first<{ execution_id: string }>();
  return row?.execution_id ?? null;
}

/** Claims an idempotency key for an execution id; an expired claim is replaced. Returns the id that holds the key. */
export async function claimIdempotencyKey(
  db: D1Database,
  orgId: string,
  scope: string,
  key: string,
  executionId: string,
  now: number,
  notBefore: number,
): Promise<string> {
  await db
    .prepare(
      `INSERT INTO idempotency_keys (org_id, scope, key, execution_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (org_id, scope, key) DO UPDATE SET execution_id = excluded.execution_id, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < ?`,
    )
    .bind(orgId, scope, key, executionId, now, notBefore)
    .run();
  return (await findIdempotentExecution(db, orgId, scope, key, 0)) ?? executionId;
}

/**
 * An index row whose object holds no execution is failed, with the reason: a pending or starting one
 * never reached its object; a later one lost its object's storage. Only if the row is as the
 * reconciler listed it (same status and updated_at), so a summary written meanwhile wins. Returns
 * whether the row was changed.
 */
export async function markExecutionLost(db: D1Database, row: StaleExecutionRow, at: string): Promise<boolean> {
  const reason =
    row.status === "pending" || row.status === "starting"
      ? "The execution was never started by its object"
      : "The execution's object holds no state for it";
  const res = await db
    .prepare(
      `UPDATE executions SET status = 'failed', last_error = ?, updated_at = ?, finished_at = ?
       WHERE id = ? AND status = ? AND updated_at = ? AND status IN ('pending', 'starting', 'in_progress', 'scheduled')`,
    )
    .bind(JSON.stringify({ error_code: "INTERNAL_ERROR", error_reason: reason }), at, at, row.id, row.status, row.updated_at)
    .run();
  return res.meta.changes > 0;
}
