import type { NewExecution } from "../engine/execution/create";
import type { ExecutionState } from "../engine/execution/types";
import { isoNow } from "../lib/time";

/**
 * The admission queue (migrations 0016 and 0040, services/admission.ts, docs/flow-control.md): one row per
 * start of a flow with concurrency bounds, a throttle, a rate limit or a singleton. A row in `admitted` or
 * `running` holds a slot of each bound it has a key for (k1, k2: concurrency; k3: singleton); a `waiting`
 * row is promoted, highest priority first and in admission order within a level, when every bound it has
 * has room and its throttle time (`not_before`) came. Every decision is a statement of one D1 batch: D1's
 * single writer runs a batch as one transaction, so a count and the take it allows are one atomic step.
 */

export type AdmissionState = "deciding" | "waiting" | "admitted" | "running" | "cancelled" | "skipped";

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
  /** Rendered keys of the first and second concurrency bound and of the singleton (null: not bound). */
  k1: string | null;
  k2: string | null;
  k3: string | null;
  /** Limits of the concurrency bounds at admission (the live flow's win while it exists). */
  l1: number | null;
  l2: number | null;
  priority: number;
  /** A throttled start waits until then (ms); 0 without a throttle. */
  not_before: number;
  cancel_requested_at: number | null;
  /** Why a `skipped` start was skipped. */
  reason: string | null;
  input: NewExecution;
}

type RawRow = Omit<AdmissionRow, "input"> & { input: string };
const fromRaw = (r: RawRow): AdmissionRow => ({ ...r, input: JSON.parse(r.input) as NewExecution });

const FINAL = `('success', 'failed', 'cancelled', 'skipped', 'hot')`;

/** What one start asks of the queue: its rendered bounds (services/admission.ts from engine/flow-control/start.ts). */
export interface QueueRequest {
  input: NewExecution;
  now: number;
  concurrency: { key: string; limit: number }[];
  singleton?: { key: string; mode: "skip" | "cancel_previous" };
  throttle?: { key: string; interval_ms: number; tolerance_ms: number };
  rate_limit?: { key: string; interval_ms: number; tolerance_ms: number };
  priority: number;
}

/** Statements of one admission request, in batch order; `cancelled`/`cancelRequested` are their indices when present. */
export interface RequestStatements {
  statements: D1PreparedStatement[];
  /** The waiting starts of the singleton key a `cancel_previous` start cancelled (RETURNING rows). */
  cancelled?: number;
  /** The running holders of the singleton key it asked to cancel (RETURNING execution_id). */
  cancelRequested?: number;
}

const DECIDING = `EXISTS (SELECT 1 FROM admission_queue m WHERE m.execution_id = ?1 AND m.state = 'deciding')`;
const tatOf = (kind: string) =>
  `COALESCE((SELECT tat FROM flow_control_state WHERE org_id = ?2 AND flow_id = ?3 AND kind = '${kind}' AND key = ?4), 0)`;

/**
 * The statements that decide a start under flow control, for one D1 batch (a transaction): the row is
 * inserted `deciding` (nothing happens when it exists already — a redelivered start — or the execution
 * already ended), then each rule applies to it in turn — a rate limit or a singleton `skip` over its bound
 * marks it `skipped` with the reason; a `cancel_previous` singleton cancels the waiting starts of its key and
 * asks its holders to cancel; a throttle sets when it may start — and it ends `waiting`. The caller follows
 * with promoteWaitingStatement, which admits it (and any other start whose turn came) if it fits.
 */
export function requestStatements(db: D1Database, r: QueueRequest): RequestStatements {
  const { input, now } = r;
  const [c1, c2] = r.concurrency;
  const out: RequestStatements = { statements: [] };
  const push = (st: D1PreparedStatement) => out.statements.push(st) - 1;
  // Only rules that decide something of the row need it `deciding` first: concurrency alone inserts it waiting.
  const rules = !!(r.rate_limit || r.singleton || r.throttle);
  push(
    db
      .prepare(
        `INSERT INTO admission_queue (execution_id, org_id, flow_id, state, enqueued_at, input, k1, k2, k3, l1, l2, priority, not_before)
         SELECT ?1, ?2, ?3, '${rules ? "deciding" : "waiting"}', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0
         WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = ?1 AND e.status IN ${FINAL})
         ON CONFLICT (execution_id) DO NOTHING`,
      )
      .bind(
        input.id,
        input.org_id,
        input.flow.id,
        now,
        JSON.stringify(input),
        c1?.key ?? null,
        c2?.key ?? null,
        r.singleton?.key ?? null,
        c1?.limit ?? null,
        c2?.limit ?? null,
        r.priority,
      ),
  );
  const ids = [input.id, input.org_id, input.flow.id];
  if (r.rate_limit) {
    const { key, interval_ms, tolerance_ms } = r.rate_limit;
    // Over the limit: skipped, and the bucket keeps what it had (a refused start takes nothing).
    push(
      db
        .prepare(
          `UPDATE admission_queue SET state = 'skipped', ended_at = ?5, reason = ?7
           WHERE execution_id = ?1 AND state = 'deciding' AND MAX(${tatOf("rate_limit")}, ?5) - ?5 > ?6`,
        )
        .bind(...ids, key, now, tolerance_ms, `rate_limit: over ${reasonKey(key)}`),
    );
    push(tatStatement(db, "rate_limit", ids, key, now, interval_ms));
  }
  if (r.singleton) {
    const { key, mode } = r.singleton;
    const others = `org_id = ?2 AND flow_id = ?3 AND k3 = ?4 AND execution_id != ?1`;
    if (mode === "skip") {
      push(
        db
          .prepare(
            `UPDATE admission_queue SET state = 'skipped', ended_at = ?5, reason = ?6
             WHERE execution_id = ?1 AND state = 'deciding'
               AND EXISTS (SELECT 1 FROM admission_queue o WHERE o.org_id = ?2 AND o.flow_id = ?3 AND o.k3 = ?4
                 AND o.execution_id != ?1 AND o.state IN ('waiting', 'admitted', 'running'))`,
          )
          .bind(...ids, key, now, `singleton: one of ${reasonKey(key)} is running or waiting`),
      );
    } else {
      const reason = `Cancelled by a newer start of the same singleton key (${reasonKey(key)})`;
      out.cancelled = push(
        db
          .prepare(
            `UPDATE admission_queue SET state = 'cancelled', ended_at = ?5, cancel_reason = ?6
             WHERE ${others} AND state = 'waiting' AND ${DECIDING} RETURNING *`,
          )
          .bind(...ids, key, now, reason),
      );
      out.cancelRequested = push(
        db
          .prepare(
            `UPDATE admission_queue SET cancel_requested_at = ?5
             WHERE ${others} AND state IN ('admitted', 'running') AND ${DECIDING} RETURNING execution_id`,
          )
          .bind(...ids, key, now),
      );
    }
  }
  if (r.throttle) {
    const { key, interval_ms, tolerance_ms } = r.throttle;
    // GCRA (engine/flow-control/rates.ts throttleSlot): the start's time from the key's tat, then the tat moves on.
    push(
      db
        .prepare(
          `UPDATE admission_queue SET not_before = MAX(?5, ${tatOf("throttle")} - ?6) WHERE execution_id = ?1 AND state = 'deciding'`,
        )
        .bind(...ids, key, now, tolerance_ms),
    );
    push(tatStatement(db, "throttle", ids, key, now, interval_ms));
  }
  if (rules)
    push(
      db.prepare(`UPDATE admission_queue SET state = 'waiting' WHERE execution_id = ?1 AND state = 'deciding'`).bind(input.id),
    );
  return out;
}

/** A key as a reason shows it ("the flow" for the keyless bound). */
const reasonKey = (key: string) => (key === "" ? "the flow" : `key "${key}"`);

/** The key's tat moves one interval on from MAX(tat, now), only for a start still deciding (a redelivery moves nothing). */
function tatStatement(
  db: D1Database,
  kind: string,
  ids: string[],
  key: string,
  now: number,
  interval: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO flow_control_state (org_id, flow_id, kind, key, tat, updated_at)
       SELECT ?2, ?3, '${kind}', ?4, MAX(${tatOf(kind)}, ?5) + ?6, ?5 WHERE ${DECIDING}
       ON CONFLICT (org_id, flow_id, kind, key) DO UPDATE SET tat = excluded.tat, updated_at = excluded.updated_at`,
    )
    .bind(...ids, key, now, interval);
}

/**
 * A slot of a flow's keyless first bound (`concurrency_limit`) taken by hand: the row is inserted
 * `admitted`, as a starter that died right after taking it leaves it. For the repairs' tests.
 */
export function requestSlotStatement(db: D1Database, input: NewExecution, limit: number, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO admission_queue (execution_id, org_id, flow_id, state, enqueued_at, admitted_at, input, k1, l1)
       SELECT ?1, ?2, ?3, 'admitted', ?5, ?5, ?6, '', ?4
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
 * Admits the waiting starts of a flow whose turn came, at most `cap`: a start's throttle time passed, and
 * every bound it has a key for has room for it — it ranks, by priority then admission order, within the
 * free slots of its key. The admitted rows come back (RETURNING; parse with parseAdmissionRows). Limits are
 * the live flow's (an edit applies to the queue; a bound the edit removed lets everyone in, `cap` at a
 * time); a row's own when the flow is gone. One statement: the counts and the moves are one atomic step.
 *
 * A start held by one of its bounds still takes its rank in the others (head-of-line within a key): a
 * key's slots never overfill, and its order never changes; it may fill a little later than it could.
 */
export function promoteWaitingStatement(
  db: D1Database,
  orgId: string,
  flowId: string,
  cap: number,
  now: number,
): D1PreparedStatement {
  const cl = `json_extract(f.doc, '$.concurrency_limit')`;
  const fc = (i: number) => `json_extract(f.doc, '$.flow_control.concurrency[${i}].limit')`;
  const live = `(SELECT 1 AS present, CASE WHEN ${cl} IS NOT NULL THEN ${cl} ELSE ${fc(0)} END AS l1,
      CASE WHEN ${cl} IS NOT NULL THEN ${fc(0)} ELSE ${fc(1)} END AS l2 FROM flows f WHERE f.org_id = ?2 AND f.id = ?3)`;
  const limit = (i: 1 | 2) =>
    `CASE WHEN (SELECT present FROM live) IS NULL THEN w.l${i} ELSE COALESCE((SELECT l${i} FROM live), ?4) END`;
  const held = (k: string) =>
    `(SELECT COUNT(*) FROM admission_queue s WHERE s.org_id = ?2 AND s.flow_id = ?3 AND s.${k} = w.${k} AND s.state IN ('admitted', 'running'))`;
  return db
    .prepare(
      `UPDATE admission_queue SET state = 'admitted', admitted_at = ?1
       WHERE seq IN (
         WITH live AS ${live},
         w AS (SELECT seq, priority, k1, k2, k3, l1, l2,
             ROW_NUMBER() OVER (PARTITION BY k1 ORDER BY priority DESC, seq) AS r1,
             ROW_NUMBER() OVER (PARTITION BY k2 ORDER BY priority DESC, seq) AS r2,
             ROW_NUMBER() OVER (PARTITION BY k3 ORDER BY priority DESC, seq) AS r3
           FROM admission_queue WHERE org_id = ?2 AND flow_id = ?3 AND state = 'waiting' AND not_before <= ?1)
         SELECT w.seq FROM w
         WHERE (w.k1 IS NULL OR w.r1 <= ${limit(1)} - ${held("k1")})
           AND (w.k2 IS NULL OR w.r2 <= ${limit(2)} - ${held("k2")})
           AND (w.k3 IS NULL OR w.r3 <= 1 - ${held("k3")})
         ORDER BY w.priority DESC, w.seq LIMIT ?4)
       RETURNING *`,
    )
    .bind(now, orgId, flowId, cap);
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

/**
 * Flows with waiting starts whose throttle time came (a release or an alarm that died before promoting):
 * the promotion decides whether they have room. Oldest waiting first.
 */
export async function flowsWithWaiting(
  db: D1Database,
  now: number,
  limit: number,
): Promise<{ org_id: string; flow_id: string }[]> {
  const { results } = await db
    .prepare(
      `SELECT org_id, flow_id FROM admission_queue WHERE state = 'waiting' AND not_before <= ?
       GROUP BY org_id, flow_id ORDER BY MIN(seq) LIMIT ?`,
    )
    .bind(now, limit)
    .all<{ org_id: string; flow_id: string }>();
  return results;
}

/** Cancelled-while-waiting rows whose index row is not final yet (the cancel died before writing it). */
export async function listUnsettledCancels(
  db: D1Database,
  limit: number,
  flow?: { org_id: string; flow_id: string },
): Promise<AdmissionRow[]> {
  const ofFlow = flow ? `AND a.org_id = ? AND a.flow_id = ?` : "";
  const { results } = await db
    .prepare(
      `SELECT a.* FROM admission_queue a JOIN executions e ON e.id = a.execution_id
       WHERE a.state = 'cancelled' AND e.status NOT IN ${FINAL} ${ofFlow} LIMIT ?`,
    )
    .bind(...(flow ? [flow.org_id, flow.flow_id] : []), limit)
    .all<RawRow>();
  return results.map(fromRaw);
}

/**
 * Holders a singleton `cancel_previous` asked to cancel before `before` that still hold their slots (the
 * cancel died, or has not reached the finish yet): asked again.
 */
export async function listCancelRequested(
  db: D1Database,
  before: number,
  limit: number,
  flow?: { org_id: string; flow_id: string },
): Promise<AdmissionRow[]> {
  const ofFlow = flow ? `AND org_id = ? AND flow_id = ?` : "";
  const { results } = await db
    .prepare(
      `SELECT * FROM admission_queue WHERE state IN ('admitted', 'running') AND cancel_requested_at <= ? ${ofFlow} LIMIT ?`,
    )
    .bind(before, ...(flow ? [flow.org_id, flow.flow_id] : []), limit)
    .all<RawRow>();
  return results.map(fromRaw);
}

/** Cancelled-while-waiting and skipped rows older than the retention cutoff (ms) go with their executions. */
export async function pruneCancelledAdmissions(db: D1Database, endedBefore: number, limit: number): Promise<number> {
  const res = await db
    .prepare(
      `DELETE FROM admission_queue WHERE seq IN (
         SELECT seq FROM admission_queue WHERE state IN ('cancelled', 'skipped') AND ended_at < ? LIMIT ?)`,
    )
    .bind(endedBefore, limit)
    .run();
  return res.meta.changes;
}
