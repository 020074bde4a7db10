import type { NewExecution } from "../engine/execution/create";
import type { ExecutionState } from "../engine/execution/types";
import { isoNow } from "../lib/time";

/**
 * The admission queue of flows with a `concurrency_limit` (migration 0016, services/admission.ts). A
 * slot is a row in `admitted` or `running`; each statement that takes one counts the flow's slots in the
 * same statement, so D1's single writer makes the check and the take one atomic step.
 */

export type AdmissionState = "waiting" | "admitted" | "running" | "cancelled";

export interface AdmissionRow {
  seq: number;
  execution_id: string;
  org_id: string;
  flow_id: string;
  state: AdmissionState;
  enqueued_at: number;
  admitted_at: number | null;
  ended_at: number | null;
  cancel_reason: string | null;
  input: NewExecution;
}

type RawRow = Omit<AdmissionRow, "input"> & { input: string };
const fromRaw = (r: RawRow): AdmissionRow => ({ ...r, input: JSON.parse(r.input) as NewExecution });

const FINAL = `('success', 'failed', 'cancelled', 'skipped', 'hot')`;
const SLOTS = `(SELECT COUNT(*) FROM admission_queue s WHERE s.org_id = ?2 AND s.flow_id = ?3 AND s.state IN ('admitted', 'running'))`;

/**
 * Asks for a slot: `admitted` when the flow has fewer than `limit` slots taken and nobody waits (so a new
 * start never overtakes a waiting one), else `waiting`. Nothing happens when the execution already has a
 * row (a redelivered start) or already ended (its row was released: taking a slot again would leak it).
 */
export function requestSlotStatement(db: D1Database, input: NewExecution, limit: number, now: number): D1PreparedStatement {
  const free = `NOT EXISTS (SELECT 1 FROM admission_queue w WHERE w.org_id = ?2 AND w.flow_id = ?3 AND w.state = 'waiting') AND ${SLOTS} < ?4`;
  return db
    .prepare(
      `INSERT INTO admission_queue (execution_id, org_id, flow_id, state, enqueued_at, admitted_at, input)
       SELECT ?1, ?2, ?3, CASE WHEN ${free} THEN 'admitted' ELSE 'waiting' END, ?5, CASE WHEN ${free} THEN ?5 END, ?6
       WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = ?1 AND e.status IN ${FINAL})
       ON CONFLICT (execution_id) DO NOTHING`,
    )
    .bind(input.id, input.org_id, input.flow.id, limit, now, JSON.stringify(input));
}

/**
 * The `executions` index row of an execution that waits for a slot: `pending`, so it is listed and
 * counted from the start. Inserted only if absent: an object's own summary (newer) is never overwritten.
 */
export function pendingRowStatement(db: D1Database, s: ExecutionState): D1PreparedStatement {
  const chain = (s.workflow_context?._execution_chain ?? {}) as { parent_execution_id?: string };
  return db
    .prepare(
      `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, trigger_type, actions_total,
         actions_summary, parent_execution_id, depth, bulk_job_id, correlation_key, seq, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(
      s.id,
      s.org_id,
      s.flow.id,
      s.flow.flow_name,
      s.flow.version,
      s.entity_id,
      typeof s.trigger_event.type === "string" ? s.trigger_event.type : null,
      s.actions.length,
      JSON.stringify(s.actions.map((a) => ({ id: a.id, type: a.type, name: a.name, execution_status: a.execution_status }))),
      chain.parent_execution_id ?? null,
      s.depth,
      typeof s.trigger_event.bulk_job_id === "string" ? s.trigger_event.bulk_job_id : null,
      s.correlation_key ?? null,
      isoNow(s.created_at),
      isoNow(s.updated_at),
    );
}

export function getAdmissionStatement(db: D1Database, orgId: string, executionId: string): D1PreparedStatement {
  return db.prepare(`SELECT * FROM admission_queue WHERE org_id = ? AND execution_id = ?`).bind(orgId, executionId);
}

export async function getAdmission(db: D1Database, orgId: string, executionId: string): Promise<AdmissionRow | null> {
  const row = await getAdmissionStatement(db, orgId, executionId).first<RawRow>();
  return row ? fromRaw(row) : null;
}

export const parseAdmissionRow = (row: unknown): AdmissionRow | null => (row ? fromRaw(row as RawRow) : null);

/** The slot of an execution that ended is free again (a no-op when replayed). */
export function releaseSlotStatement(db: D1Database, orgId: string, executionId: string): D1PreparedStatement {
  return db
    .prepare(`DELETE FROM admission_queue WHERE org_id = ? AND execution_id = ? AND state != 'cancelled'`)
    .bind(orgId, executionId);
}

/**
 * Moves the oldest waiting executions of a flow into the free slots, at most `cap` at once; the moved rows
 * come back (RETURNING; parse with parseAdmissionRows). The limit is the live flow's (an edit applies to
 * the queue; a removed limit frees everyone, `cap` at a time); `fallbackLimit` when the flow is gone.
 * One statement: the count and the move are one atomic step.
 */
export function promoteWaitingStatement(
  db: D1Database,
  orgId: string,
  flowId: string,
  fallbackLimit: number,
  cap: number,
  now: number,
): D1PreparedStatement {
  const live = `(SELECT COALESCE(json_extract(f.doc, '$.concurrency_limit'), ?5) FROM flows f WHERE f.org_id = ?2 AND f.id = ?3)`;
  const room = `MAX(0, MIN(?5, COALESCE(${live}, ?4) - ${SLOTS}))`;
  return db
    .prepare(
      `UPDATE admission_queue SET state = 'admitted', admitted_at = ?1
       WHERE seq IN (SELECT seq FROM admission_queue WHERE org_id = ?2 AND flow_id = ?3 AND state = 'waiting' ORDER BY seq LIMIT ${room})
       RETURNING *`,
    )
    .bind(now, orgId, flowId, fallbackLimit, cap);
}

/** Rows returned by a statement, in `seq` (admission) order. */
export const parseAdmissionRows = (rows: unknown[]): AdmissionRow[] =>
  (rows as RawRow[]).map(fromRaw).sort((a, b) => a.seq - b.seq);

/** The object of an admitted execution has its execution: it is `running` (still holding its slot). */
export async function markRunning(db: D1Database, executionId: string): Promise<void> {
  await db
    .prepare(`UPDATE admission_queue SET state = 'running' WHERE execution_id = ? AND state = 'admitted'`)
    .bind(executionId)
    .run();
}

/** Takes a waiting execution out of the queue as cancelled; null when it is not waiting (admitted meanwhile, or unknown). */
export async function cancelWaitingRow(
  db: D1Database,
  orgId: string,
  executionId: string,
  reason: string,
  now: number,
): Promise<AdmissionRow | null> {
  const row = await db
    .prepare(
      `UPDATE admission_queue SET state = 'cancelled', ended_at = ?, cancel_reason = ?
       WHERE org_id = ? AND execution_id = ? AND state = 'waiting' RETURNING *`,
    )
    .bind(now, reason, orgId, executionId)
    .first<RawRow>();
  return row ? fromRaw(row) : null;
}

// ---- reconciliation ----------------------------------------------------------------------------

/** Admitted executions whose start was not confirmed since before `before` (ms): their starter may have died. */
export async function listUnconfirmedAdmissions(db: D1Database, before: number, limit: number): Promise<AdmissionRow[]> {
  const { results } = await db
    .prepare(`SELECT * FROM admission_queue WHERE state = 'admitted' AND admitted_at < ? ORDER BY admitted_at LIMIT ?`)
    .bind(before, limit)
    .all<RawRow>();
  return results.map(fromRaw);
}

/**
 * Slots still held by executions whose index row is final (the process died between the finish batch and
 * the release): released here. Returns the flows concerned.
 */
export async function releaseOrphanSlots(db: D1Database, limit: number): Promise<{ org_id: string; flow_id: string }[]> {
  const { results } = await db
    .prepare(
      `DELETE FROM admission_queue WHERE seq IN (
         SELECT a.seq FROM admission_queue a JOIN executions e ON e.id = a.execution_id
         WHERE a.state IN ('admitted', 'running') AND e.status IN ${FINAL} LIMIT ?)
       RETURNING org_id, flow_id`,
    )
    .bind(limit)
    .all<{ org_id: string; flow_id: string }>();
  return results;
}

/** Flows with waiting executions and a free slot under their live limit (a release that died before promoting). */
export async function flowsWithRoom(db: D1Database, limit: number): Promise<{ org_id: string; flow_id: string }[]> {
  const { results } = await db
    .prepare(
      `SELECT w.org_id, w.flow_id FROM (SELECT DISTINCT org_id, flow_id FROM admission_queue WHERE state = 'waiting') w
       JOIN flows f ON f.org_id = w.org_id AND f.id = w.flow_id
       WHERE COALESCE(json_extract(f.doc, '$.concurrency_limit'), 1e9) >
         (SELECT COUNT(*) FROM admission_queue s WHERE s.org_id = w.org_id AND s.flow_id = w.flow_id AND s.state IN ('admitted', 'running'))
       LIMIT ?`,
    )
    .bind(limit)
    .all<{ org_id: string; flow_id: string }>();
  return results;
}

/** Cancelled-while-waiting rows whose index row is not final yet (the cancel died before writing it). */
export async function listUnsettledCancels(db: D1Database, limit: number): Promise<AdmissionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT a.* FROM admission_queue a JOIN executions e ON e.id = a.execution_id
       WHERE a.state = 'cancelled' AND e.status NOT IN ${FINAL} LIMIT ?`,
    )
    .bind(limit)
    .all<RawRow>();
  return results.map(fromRaw);
}

/** Cancelled-while-waiting rows older than the retention cutoff (ms) go with their executions. */
export async function pruneCancelledAdmissions(db: D1Database, endedBefore: number, limit: number): Promise<number> {
  const res = await db
    .prepare(
      `DELETE FROM admission_queue WHERE seq IN (SELECT seq FROM admission_queue WHERE state = 'cancelled' AND ended_at < ? LIMIT ?)`,
    )
    .bind(endedBefore, limit)
    .run();
  return res.meta.changes;
}
