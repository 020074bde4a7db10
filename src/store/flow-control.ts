import type { NewExecution } from "../engine/execution/create";

/**
 * Debounce and batch groups (migrations/0040_flow_control.sql, services/flow-control.ts), the throttle
 * state and the queue view. A group collects the events of one key of a flow until it is due or full;
 * then one execution starts with them. Each step is one D1 batch, safe to repeat: a redelivered event
 * joins nothing twice (its member id exists), and a group flushed twice starts one execution (its
 * execution id derives from the group id).
 */

export type GroupState = "open" | "full" | "flushing" | "done";

export interface GroupRow {
  id: string;
  org_id: string;
  flow_id: string;
  kind: "debounce" | "batch";
  key: string;
  state: GroupState;
  opened_at: number;
  last_at: number;
  due_at: number;
  size: number;
  keep: "all" | "last";
  execution_id: string | null;
  flushed_at: number | null;
}

export interface MemberRow {
  member_id: string;
  at: number;
  /** The start the event would have been; null for the older events of a debounce that keeps the last. */
  input: NewExecution | null;
}

export interface CollectRequest {
  /** The id a new group gets (unused when the key has an open group). */
  groupId: string;
  /** The event's own start: its would-be execution id (derived from the event id) and its input. */
  member: NewExecution;
  kind: "debounce" | "batch";
  key: string;
  now: number;
  /** Debounce: the quiet period; batch: the timeout. */
  period_ms: number;
  max_wait_ms?: number;
  max_size: number;
  keep: "all" | "last";
}

/**
 * One event joins its key's open group (opening one if none is and the event is new): the group's size and due time move on
 * only if the event is new; a debounce keeping the last event forgets the inputs before it; a group that
 * reaches `max_size` closes (`full`: flushed at once by the flow's alarm, and the next event opens a new
 * one). The last statement reads the group the event is in, whatever its state.
 */
export function collectStatements(db: D1Database, r: CollectRequest): D1PreparedStatement[] {
  const { member, now } = r;
  const open = `org_id = ?2 AND flow_id = ?3 AND kind = ?4 AND key = ?5 AND state = 'open'`;
  const binds = [r.groupId, member.org_id, member.flow.id, r.kind, r.key];
  // Debounce: the quiet period after this event, capped by max_wait from the group's first; batch: fixed at open.
  // (D1 wants exactly the parameters a statement names, so each form binds its own.)
  const due: [string, unknown[]] =
    r.kind === "batch"
      ? [`due_at`, [now]]
      : r.max_wait_ms === undefined
        ? [`?6 + ?7`, [now, r.period_ms]]
        : [`MIN(?6 + ?7, opened_at + ?8)`, [now, r.period_ms, r.max_wait_ms]];
  const out = [
    db
      .prepare(
        `INSERT INTO flow_control_groups (id, org_id, flow_id, kind, key, state, opened_at, last_at, due_at, size, keep)
         SELECT ?1, ?2, ?3, ?4, ?5, 'open', ?6, ?6, ?6 + ?7, 0, ?8
         WHERE NOT EXISTS (SELECT 1 FROM flow_control_members WHERE member_id = ?9)
         ON CONFLICT (org_id, flow_id, kind, key) WHERE state = 'open' DO NOTHING`,
      )
      .bind(...binds, now, r.period_ms, r.keep, member.id),
    db
      .prepare(
        `INSERT INTO flow_control_members (member_id, group_id, org_id, flow_id, at, input)
         SELECT ?6, g.id, ?2, ?3, ?7, ?8 FROM flow_control_groups g
         WHERE g.org_id = ?2 AND g.flow_id = ?3 AND g.kind = ?4 AND g.key = ?5 AND g.state = 'open'

         ON CONFLICT (member_id) DO NOTHING`,
      )
      .bind(...binds, member.id, now, JSON.stringify(member)),
    // Right after the member insert: changes() says whether the event is new.
    db
      .prepare(`UPDATE flow_control_groups SET size = size + 1, last_at = ?6, due_at = ${due[0]} WHERE ${open} AND changes() = 1`)
      .bind(...binds, ...due[1]),
  ];
  if (r.keep === "last") {
    // Only when this event is the group's newest: a redelivered older one must not erase the newest input.
    out.push(
      db
        .prepare(
          `UPDATE flow_control_members SET input = NULL
           WHERE group_id = (SELECT id FROM flow_control_groups WHERE ${open}) AND member_id != ?6 AND input IS NOT NULL
             AND ?6 = (SELECT m.member_id FROM flow_control_members m
                       WHERE m.group_id = (SELECT id FROM flow_control_groups WHERE ${open}) ORDER BY m.rowid DESC LIMIT 1)`,
        )
        .bind(...binds, member.id),
    );
  }
  out.push(
    db
      .prepare(`UPDATE flow_control_groups SET state = 'full', due_at = ?6 WHERE ${open} AND size >= ?7`)
      .bind(...binds, now, r.max_size),
    db
      .prepare(`SELECT g.* FROM flow_control_members m JOIN flow_control_groups g ON g.id = m.group_id WHERE m.member_id = ?`)
      .bind(member.id),
  );
  return out;
}

export const groupFrom = (res: D1Result): GroupRow | null => (res.results[0] as GroupRow | undefined) ?? null;

/**
 * Takes the flow's groups to flush: full ones, open ones that are due, and flushes that died (`flushing` for
 * longer than `graceMs`). Marked `flushing` now, so another flusher leaves them alone for `graceMs`.
 */
export async function takeDueGroups(
  db: D1Database,
  orgId: string,
  flowId: string,
  now: number,
  graceMs: number,
  limit: number,
): Promise<GroupRow[]> {
  const { results } = await db
    .prepare(
      `UPDATE flow_control_groups SET state = 'flushing', flushed_at = ?3
       WHERE id IN (SELECT id FROM flow_control_groups WHERE org_id = ?1 AND flow_id = ?2
         AND (state = 'full' OR (state = 'open' AND due_at <= ?3) OR (state = 'flushing' AND flushed_at <= ?3 - ?4))
         ORDER BY due_at LIMIT ?5)
       RETURNING *`,
    )
    .bind(orgId, flowId, now, graceMs, limit)
    .all<GroupRow>();
  return results;
}

/** A group's events, oldest first. */
export async function groupMembers(db: D1Database, groupId: string): Promise<MemberRow[]> {
  const { results } = await db
    .prepare(`SELECT member_id, at, input FROM flow_control_members WHERE group_id = ? ORDER BY rowid`)
    .bind(groupId)
    .all<{ member_id: string; at: number; input: string | null }>();
  return results.map((r) => ({ ...r, input: r.input === null ? null : (JSON.parse(r.input) as NewExecution) }));
}

/** The group's execution exists: the group is done. */
export async function finishGroup(db: D1Database, groupId: string, executionId: string | null, now: number): Promise<void> {
  await db
    .prepare(`UPDATE flow_control_groups SET state = 'done', execution_id = ?, flushed_at = ? WHERE id = ?`)
    .bind(executionId, now, groupId)
    .run();
}

/**
 * When the flow next has time-driven work: an open group's due time, a flush that may have died (`graceMs`
 * after it began) or a throttled start's time (after `now`); null when there is none.
 */
export async function nextDueAt(
  db: D1Database,
  orgId: string,
  flowId: string,
  now: number,
  graceMs: number,
): Promise<number | null> {
  const row = await db
    .prepare(
      `SELECT MIN(t) AS at FROM (
         SELECT MIN(due_at) AS t FROM flow_control_groups WHERE org_id = ?1 AND flow_id = ?2 AND state IN ('open', 'full')
         UNION ALL SELECT MIN(flushed_at) + ?4 FROM flow_control_groups WHERE org_id = ?1 AND flow_id = ?2 AND state = 'flushing'
         UNION ALL SELECT MIN(not_before) FROM admission_queue
           WHERE org_id = ?1 AND flow_id = ?2 AND state = 'waiting' AND not_before > ?3)`,
    )
    .bind(orgId, flowId, now, graceMs)
    .first<{ at: number | null }>();
  return row?.at ?? null;
}

/** Flows with time-driven work overdue at `now` (an alarm that was lost): for the reconciliation. */
export async function flowsWithDueWork(
  db: D1Database,
  now: number,
  graceMs: number,
  limit: number,
): Promise<{ org_id: string; flow_id: string }[]> {
  const { results } = await db
    .prepare(
      `SELECT org_id, flow_id FROM flow_control_groups
         WHERE (state IN ('open', 'full') AND due_at <= ?1 - ?2) OR (state = 'flushing' AND flushed_at <= ?1 - ?2)
       UNION
       SELECT org_id, flow_id FROM admission_queue WHERE state = 'waiting' AND not_before > 0 AND not_before <= ?1 - ?2
       LIMIT ?3`,
    )
    .bind(now, graceMs, limit)
    .all<{ org_id: string; flow_id: string }>();
  return results;
}

// ---- the queue view (GET /flows/{id}/queue) -------------------------------------------------------

export interface QueueKeyRow {
  bound: "concurrency" | "concurrency_2" | "singleton";
  key: string;
  running: number;
  waiting: number;
  oldest_waiting_at: number | null;
}

export interface QueueTotals {
  running: number;
  waiting: number;
  /** Waiting starts whose throttle time has not come. */
  throttled: number;
  oldest_waiting_at: number | null;
  next_throttled_at: number | null;
}

/** The flow's queue per bound and key (the busiest keys first, at most `limit` per bound), its totals, throttle tats and open groups. */
export async function queueView(
  db: D1Database,
  orgId: string,
  flowId: string,
  now: number,
  limit: number,
): Promise<{ keys: QueueKeyRow[]; totals: QueueTotals; tats: { key: string; tat: number }[]; groups: GroupRow[] }> {
  const live = `org_id = ?1 AND flow_id = ?2 AND state IN ('waiting', 'admitted', 'running')`;
  const perKey = (bound: QueueKeyRow["bound"], k: string) =>
    db
      .prepare(
        `SELECT '${bound}' AS bound, ${k} AS key, SUM(state IN ('admitted', 'running')) AS running, SUM(state = 'waiting') AS waiting,
           MIN(CASE WHEN state = 'waiting' THEN enqueued_at END) AS oldest_waiting_at
         FROM admission_queue WHERE ${live} AND ${k} IS NOT NULL GROUP BY ${k} ORDER BY waiting DESC, running DESC, ${k} LIMIT ?3`,
      )
      .bind(orgId, flowId, limit);
  const [k1, k2, k3, totals, tats, groups] = await db.batch([
    perKey("concurrency", "k1"),
    perKey("concurrency_2", "k2"),
    perKey("singleton", "k3"),
    db
      .prepare(
        `SELECT COALESCE(SUM(state IN ('admitted', 'running')), 0) AS running, COALESCE(SUM(state = 'waiting'), 0) AS waiting,
           COALESCE(SUM(state = 'waiting' AND not_before > ?3), 0) AS throttled,
           MIN(CASE WHEN state = 'waiting' THEN enqueued_at END) AS oldest_waiting_at,
           MIN(CASE WHEN state = 'waiting' AND not_before > ?3 THEN not_before END) AS next_throttled_at
         FROM admission_queue WHERE ${live}`,
      )
      .bind(orgId, flowId, now),
    db
      .prepare(
        `SELECT key, tat FROM flow_control_state WHERE org_id = ? AND flow_id = ? AND kind = 'throttle' ORDER BY tat DESC LIMIT ?`,
      )
      .bind(orgId, flowId, limit),
    db
      .prepare(
        `SELECT * FROM flow_control_groups WHERE org_id = ? AND flow_id = ? AND state IN ('open', 'full', 'flushing') ORDER BY due_at LIMIT ?`,
      )
      .bind(orgId, flowId, limit),
  ]);
  return {
    keys: [...k1.results, ...k2.results, ...k3.results] as QueueKeyRow[],
    totals: totals.results[0] as QueueTotals,
    tats: tats.results as { key: string; tat: number }[],
    groups: groups.results as GroupRow[],
  };
}

// ---- retention ----------------------------------------------------------------------------------

/** Done groups (and their members, kept to recognise a redelivered event) older than `before` go. */
export async function pruneGroups(db: D1Database, before: number, limit: number): Promise<number> {
  const [, groups] = await db.batch([
    db
      .prepare(
        `DELETE FROM flow_control_members WHERE group_id IN
           (SELECT id FROM flow_control_groups WHERE state = 'done' AND flushed_at < ? LIMIT ?)`,
      )
      .bind(before, limit),
    db
      .prepare(
        `DELETE FROM flow_control_groups WHERE id IN (SELECT id FROM flow_control_groups WHERE state = 'done' AND flushed_at < ? LIMIT ?)`,
      )
      .bind(before, limit),
  ]);
  return groups.meta.changes;
}

/** Throttle and rate-limit state whose tat passed long ago says nothing a fresh key would not: it goes. */
export async function pruneRateState(db: D1Database, before: number, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM flow_control_state WHERE rowid IN (SELECT rowid FROM flow_control_state WHERE tat < ? LIMIT ?)`)
    .bind(before, limit)
    .run();
  return res.meta.changes;
}
