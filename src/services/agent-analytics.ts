import type { Env } from "../env";
import { getFlow } from "../store/flows";
import { agentRunSummary, agentRunsByDay, type AgentRow, type RunFigures } from "../store/agents";
import { agentScheduleState } from "./agents";

/**
 * An agent's health and history, computed from the executions it started (`agent_runs` ⋈ `executions`):
 * nothing is counted twice or kept in a second place. Runs whose execution rows were pruned (retention)
 * are still runs but no longer successes or failures.
 */

const DAY_MS = 86_400_000;

/** Percentage of runs that succeeded, two decimals; null before the first run. */
const rate = (successes: number, runs: number): number | null =>
  runs === 0 ? null : Math.round((successes / runs) * 10_000) / 100;
const roundMs = (ms: number | null): number | null => (ms === null ? null : Math.round(ms));

function errorReason(json: string | null): string | null {
  if (!json) return null;
  try {
    const e = JSON.parse(json) as { error_reason?: unknown; error_code?: unknown };
    return typeof e.error_reason === "string" ? e.error_reason : typeof e.error_code === "string" ? e.error_code : json;
  } catch {
    return json;
  }
}

export interface AgentHealth {
  agent: AgentRow;
  workflow_name: string | null;
  execution_count: number;
  success_count: number;
  failure_count: number;
  success_rate: number | null;
  average_duration_ms: number | null;
  last_error: string | null;
  last_error_at: string | null;
  fire_error_count: number;
  last_run_at: string | null;
  next_run_at: string | null;
}

/** Status: counts over every run, the latest error (a failed run's, or a fire that could not start one) and the next run. */
export async function agentHealth(env: Env, agent: AgentRow): Promise<AgentHealth> {
  const [summary, flow, schedule] = await Promise.all([
    agentRunSummary(env.DB, agent.org_id, agent.id),
    getFlow(env.DB, agent.org_id, agent.flow_id),
    agentScheduleState(env, agent),
  ]);
  const failure = summary.last_failure;
  const failureAt = failure?.at ?? null;
  // The more recent of the two kinds of error wins (ISO strings compare in time order).
  const fireIsLater = agent.last_error_at !== null && (failureAt === null || agent.last_error_at >= failureAt);
  const lastError = fireIsLater
    ? agent.last_error
    : failure
      ? `Execution ${failure.execution_id} failed: ${errorReason(failure.error) ?? "unknown error"}`
      : null;
  return {
    agent,
    workflow_name: flow?.flow_name ?? null,
    execution_count: summary.runs,
    success_count: summary.successes,
    failure_count: summary.failures,
    success_rate: rate(summary.successes, summary.runs),
    average_duration_ms: roundMs(summary.avg_duration_ms),
    last_error: lastError,
    last_error_at: fireIsLater ? agent.last_error_at : failureAt,
    fire_error_count: agent.fire_error_count,
    last_run_at: summary.last_run_at,
    next_run_at: agent.status === "active" ? (schedule?.next_fire_at ?? null) : null,
  };
}

export interface DayFigures {
  date: string;
  runs: number;
  successes: number;
  failures: number;
  average_duration_ms: number | null;
}

export interface AgentAnalytics {
  days: number;
  from: string;
  to: string;
  totals: Omit<DayFigures, "date"> & { success_rate: number | null };
  daily: DayFigures[];
}

const dayOf = (r: RunFigures & { day: string }): DayFigures => ({
  date: r.day,
  runs: r.runs,
  successes: r.successes,
  failures: r.failures,
  average_duration_ms: roundMs(r.avg_duration_ms),
});

/** Figures per UTC day over the last `days` days (today included), days without runs as zeros, oldest first. */
export async function agentAnalytics(env: Env, agent: AgentRow, days: number, now = Date.now()): Promise<AgentAnalytics> {
  const tomorrow = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  const from = new Date(tomorrow - days * DAY_MS).toISOString();
  const to = new Date(tomorrow).toISOString();
  const rows = await agentRunsByDay(env.DB, agent.org_id, agent.id, from, to);
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const daily: DayFigures[] = [];
  for (let i = 0; i < days; i++) {
    const date = new Date(tomorrow - (days - i) * DAY_MS).toISOString().slice(0, 10);
    const row = byDay.get(date);
    daily.push(row ? dayOf(row) : { date, runs: 0, successes: 0, failures: 0, average_duration_ms: null });
  }
  const sum = (pick: (r: RunFigures) => number) => rows.reduce((n, r) => n + pick(r), 0);
  const finished = sum((r) => r.finished);
  const runs = sum((r) => r.runs);
  const successes = sum((r) => r.successes);
  return {
    days,
    from,
    to,
    totals: {
      runs,
      successes,
      failures: sum((r) => r.failures),
      // Weighted by each day's finished runs: the mean over every finished run of the window.
      average_duration_ms: finished === 0 ? null : Math.round(sum((r) => (r.avg_duration_ms ?? 0) * r.finished) / finished),
      success_rate: rate(successes, runs),
    },
    daily,
  };
}
