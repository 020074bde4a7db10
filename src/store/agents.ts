/**
 * D1 access of agents (`agents`) and the executions they started (`agent_runs`, joined to `executions` for
 * status and analytics). Every query is scoped to one organization.
 */

import type { ScheduleConfig as AgentScheduleConfig } from "../engine/schedule";

export type AgentStatus = "active" | "paused";

export interface AgentRow {
  id: string;
  org_id: string;
  flow_id: string;
  name: string;
  template_id: string | null;
  agent_config: Record<string, unknown>;
  schedule_config: AgentScheduleConfig | null;
  status: AgentStatus;
  last_error: string | null;
  last_error_at: string | null;
  fire_error_count: number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

type RawAgent = Omit<AgentRow, "agent_config" | "schedule_config"> & { agent_config: string; schedule_config: string | null };

const COLUMNS =
  "id, org_id, flow_id, name, template_id, agent_config, schedule_config, status, last_error, last_error_at, fire_error_count, created_by, created_at, updated_at";

const fromRaw = (r: RawAgent): AgentRow => ({
  ...r,
  agent_config: JSON.parse(r.agent_config),
  schedule_config: r.schedule_config ? JSON.parse(r.schedule_config) : null,
});

/** Inserts an agent unless the org already has `maxPerOrg` (the count and the insert are one statement). */
export async function insertAgent(db: D1Database, a: AgentRow, maxPerOrg: number): Promise<boolean> {
  const res = await db
    .prepare(
      `INSERT INTO agents (${COLUMNS})
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
       WHERE (SELECT COUNT(*) FROM agents WHERE org_id = ?) < ?`,
    )
    .bind(
      a.id,
      a.org_id,
      a.flow_id,
      a.name,
      a.template_id,
      JSON.stringify(a.agent_config),
      a.schedule_config ? JSON.stringify(a.schedule_config) : null,
      a.status,
      a.last_error,
      a.last_error_at,
      a.fire_error_count,
      a.created_by,
      a.created_at,
      a.updated_at,
      a.org_id,
      maxPerOrg,
    )
    .run();
  return res.meta.changes > 0;
}

export async function getAgent(db: D1Database, orgId: string, id: string): Promise<AgentRow | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM agents WHERE org_id = ? AND id = ?`).bind(orgId, id).first<RawAgent>();
  return row ? fromRaw(row) : null;
}

/** An agent by id in any organization (an inbound URL names only the agent; the org comes from the row). */
export async function getAgentAnyOrg(db: D1Database, id: string): Promise<AgentRow | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM agents WHERE id = ?`).bind(id).first<RawAgent>();
  return row ? fromRaw(row) : null;
}

export async function listAgents(
  db: D1Database,
  orgId: string,
  page: { limit: number; offset: number },
): Promise<{ total: number; results: AgentRow[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM agents WHERE org_id = ?`).bind(orgId),
    db
      .prepare(`SELECT ${COLUMNS} FROM agents WHERE org_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?`)
      .bind(orgId, page.limit, page.offset),
  ]);
  return {
    total: (count.results[0] as { n: number } | undefined)?.n ?? 0,
    results: (rows.results as RawAgent[]).map(fromRaw),
  };
}

/** Sets the schedule; false when the agent is not in the org. */
export async function setAgentSchedule(
  db: D1Database,
  orgId: string,
  id: string,
  config: AgentScheduleConfig,
  at: string,
): Promise<boolean> {
  const res = await db
    .prepare(`UPDATE agents SET schedule_config = ?, updated_at = ? WHERE org_id = ? AND id = ?`)
    .bind(JSON.stringify(config), at, orgId, id)
    .run();
  return res.meta.changes > 0;
}

export async function setAgentStatus(
  db: D1Database,
  orgId: string,
  id: string,
  status: AgentStatus,
  at: string,
): Promise<boolean> {
  const res = await db
    .prepare(`UPDATE agents SET status = ?, updated_at = ? WHERE org_id = ? AND id = ?`)
    .bind(status, at, orgId, id)
    .run();
  return res.meta.changes > 0;
}

/** Deletes the agent and its run links in one batch; the executions themselves stay. */
export async function deleteAgent(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const [res] = await db.batch([
    db.prepare(`DELETE FROM agents WHERE org_id = ? AND id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM agent_runs WHERE org_id = ? AND agent_id = ?`).bind(orgId, id),
  ]);
  return res.meta.changes > 0;
}

/** A fire that could not start a run (flow disabled or deleted). */
export async function recordAgentFireError(
  db: D1Database,
  orgId: string,
  id: string,
  message: string,
  at: string,
): Promise<void> {
  await db
    .prepare(
      `UPDATE agents SET last_error = ?, last_error_at = ?, fire_error_count = fire_error_count + 1 WHERE org_id = ? AND id = ?`,
    )
    .bind(message, at, orgId, id)
    .run();
}

export interface AgentRunRow {
  org_id: string;
  agent_id: string;
  execution_id: string;
  source: "schedule" | "manual" | "event";
  scheduled_at: string | null;
  run_at: string;
}

/** Links an execution to the agent that started it; a repeated start (alarm retry) links nothing twice. */
export async function insertAgentRun(db: D1Database, r: AgentRunRow): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO agent_runs (org_id, agent_id, execution_id, source, scheduled_at, run_at) VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .bind(r.org_id, r.agent_id, r.execution_id, r.source, r.scheduled_at, r.run_at)
    .run();
}

const JOIN = `FROM agent_runs r LEFT JOIN executions e ON e.org_id = r.org_id AND e.id = r.execution_id
  WHERE r.org_id = ? AND r.agent_id = ?`;
/** Failed includes cancelled (as runs report it); a run whose execution row is not written yet counts in neither. */
const FIGURES = `COUNT(*) AS runs,
  COALESCE(SUM(e.status = 'success'), 0) AS successes,
  COALESCE(SUM(e.status IN ('failed', 'cancelled')), 0) AS failures,
  COALESCE(SUM(e.started_at IS NOT NULL AND e.finished_at IS NOT NULL), 0) AS finished,
  AVG(CASE WHEN e.started_at IS NOT NULL AND e.finished_at IS NOT NULL
      THEN (julianday(e.finished_at) - julianday(e.started_at)) * 86400000 END) AS avg_duration_ms`;

export interface RunFigures {
  runs: number;
  successes: number;
  failures: number;
  /** Runs with a start and a finish time (what the mean duration is over). */
  finished: number;
  /** Mean of finished runs (started → finished), ms; null when none finished. */
  avg_duration_ms: number | null;
}

export interface AgentRunSummary extends RunFigures {
  last_run_at: string | null;
  /** The most recent failed run's error (executions.last_error JSON) and when it finished. */
  last_failure: { execution_id: string; error: string | null; at: string | null } | null;
}

export async function agentRunSummary(db: D1Database, orgId: string, agentId: string): Promise<AgentRunSummary> {
  const [totals, failed] = await db.batch([
    db.prepare(`SELECT ${FIGURES}, MAX(r.run_at) AS last_run_at ${JOIN}`).bind(orgId, agentId),
    db
      .prepare(
        `SELECT e.id AS execution_id, e.last_error AS error, COALESCE(e.finished_at, e.updated_at) AS at ${JOIN}
         AND e.status IN ('failed', 'cancelled') ORDER BY r.run_at DESC LIMIT 1`,
      )
      .bind(orgId, agentId),
  ]);
  const t = totals.results[0] as RunFigures & { last_run_at: string | null };
  const f = failed.results[0] as AgentRunSummary["last_failure"] | undefined;
  return { ...t, last_failure: f ?? null };
}

/** Figures per UTC day (`YYYY-MM-DD` of run_at) for runs with `from <= run_at < to`; days without runs are absent. */
export async function agentRunsByDay(
  db: D1Database,
  orgId: string,
  agentId: string,
  from: string,
  to: string,
): Promise<(RunFigures & { day: string })[]> {
  const rows = await db
    .prepare(
      `SELECT substr(r.run_at, 1, 10) AS day, ${FIGURES} ${JOIN} AND r.run_at >= ? AND r.run_at < ? GROUP BY day ORDER BY day`,
    )
    .bind(orgId, agentId, from, to)
    .all<RunFigures & { day: string }>();
  return rows.results;
}

export interface ScheduledAgentRow {
  id: string;
  org_id: string;
  status: AgentStatus;
  schedule_config: AgentScheduleConfig;
}

/**
 * Agents with a schedule in id order within `[gte, lt)`, at most `limit`: the per-minute reconciliation's list.
 * A system task over all organizations, so (unlike every API query) not scoped to one org; rows carry org_id.
 */
export async function listScheduledAgents(
  db: D1Database,
  range: { gte?: string; lt?: string },
  limit: number,
): Promise<ScheduledAgentRow[]> {
  const rows = await db
    .prepare(
      `SELECT id, org_id, status, schedule_config FROM agents
       WHERE schedule_config IS NOT NULL AND id >= ? AND (? IS NULL OR id < ?) ORDER BY id LIMIT ?`,
    )
    .bind(range.gte ?? "", range.lt ?? null, range.lt ?? null, limit)
    .all<Omit<ScheduledAgentRow, "schedule_config"> & { schedule_config: string }>();
  return rows.results.map((r) => ({ ...r, schedule_config: JSON.parse(r.schedule_config) as AgentScheduleConfig }));
}
