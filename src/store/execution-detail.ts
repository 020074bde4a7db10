import type { AttemptView, ExecutionDetail, IterationView } from "../engine/execution/views";
import type { LedgerRow } from "../engine/reruns/ledger";
import type { SideEffect } from "../engine/reruns/side-effects";
import { LIMITS } from "../lib/limits";

/** The attempts table and the rows the execution views read (getExecution, runs), from an object's SQLite. */

/**
 * Records an attempt's result. A response body that is also the action's (or iteration's) output is
 * stored once, in the outputs row: the attempt keeps `body_in_outputs` and the view joins them again.
 */
export function writeAttempt(sql: SqlStorage, d: AttemptView, outputs?: Record<string, unknown>): void {
  let response = d.response;
  if (outputs && response && typeof response === "object" && "body" in response) {
    const body = (response as { body: unknown }).body;
    // Usually the very same value (an HTTP action's outputs carry its response body): no serialising to compare.
    if (body !== undefined && (body === outputs.body || JSON.stringify(body) === JSON.stringify(outputs.body))) {
      const { body: _body, ...rest } = response as Record<string, unknown>;
      response = { ...rest, body_in_outputs: true };
    }
  }
  sql.exec(
    `INSERT INTO attempts (action_id, iteration, attempt, started_at, ended_at, outcome, request, response, error, effects)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (action_id, iteration, attempt) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome,
       request = excluded.request, response = excluded.response, error = excluded.error, effects = excluded.effects`,
    d.action_id,
    d.iteration ?? -1,
    d.attempt,
    d.started_at,
    d.ended_at,
    d.outcome,
    d.request === undefined ? null : JSON.stringify(d.request),
    response === undefined ? null : JSON.stringify(response),
    d.error === undefined ? null : JSON.stringify(d.error),
    JSON.stringify(d.effects ?? []),
  );
}

/**
 * The effects an attempt that was in flight when the runtime restarted would have caused (its outcome is
 * unknown): kept on its row, which the engine's `close_attempt` then closes as interrupted.
 */
export function writePlannedEffects(
  sql: SqlStorage,
  a: { action_id: string; iteration: number | null; attempt: number; started_at: number },
  effects: SideEffect[],
): void {
  sql.exec(
    `INSERT INTO attempts (action_id, iteration, attempt, started_at, ended_at, outcome, effects) VALUES (?, ?, ?, ?, ?, 'interrupted', ?)
     ON CONFLICT (action_id, iteration, attempt) DO UPDATE SET effects = excluded.effects`,
    a.action_id,
    a.iteration ?? -1,
    a.attempt,
    a.started_at,
    a.started_at,
    JSON.stringify(effects.map((e) => ({ ...e, outcome: "unknown" }))),
  );
}

/** Every attempt row as the ledger reads it (engine/reruns/ledger.ts); the request only where effects were not recorded. */
export function readLedgerRows(sql: SqlStorage): LedgerRow[] {
  return sql
    .exec<{
      action_id: string;
      iteration: number;
      attempt: number;
      started_at: number;
      ended_at: number;
      outcome: string;
      effects: string | null;
      request: string | null;
      response: string | null;
    }>(
      `SELECT action_id, iteration, attempt, started_at, ended_at, outcome, effects,
              CASE WHEN effects IS NULL THEN request END AS request,
              CASE WHEN effects IS NULL THEN response END AS response
         FROM attempts`,
    )
    .toArray()
    .map((r) => ({
      ...r,
      iteration: r.iteration < 0 ? null : r.iteration,
      effects: r.effects === null ? null : (JSON.parse(r.effects) as SideEffect[]),
      request: r.request === null ? undefined : (JSON.parse(r.request) as unknown),
      response: r.response === null ? undefined : (JSON.parse(r.response) as unknown),
    }));
}

/** The latest MAX_ATTEMPTS_IN_VIEW attempts of each action, oldest first, bodies joined from the outputs. */
export function readAttempts(sql: SqlStorage): AttemptView[] {
  const rows = sql
    .exec<{
      action_id: string;
      iteration: number;
      attempt: number;
      started_at: number;
      ended_at: number;
      outcome: string;
      request: string | null;
      response: string | null;
      error: string | null;
      out: string | null;
    }>(
      `SELECT a.action_id, a.iteration, a.attempt, a.started_at, a.ended_at, a.outcome, a.request, a.response, a.error,
              CASE WHEN a.response LIKE '%"body_in_outputs":true%'
                   THEN COALESCE(i.outputs, o.data) END AS out
         FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY action_id ORDER BY started_at DESC, iteration DESC, attempt DESC) AS rn
                 FROM attempts) a
         LEFT JOIN iterations i ON i.action_id = a.action_id AND i.idx = a.iteration
         LEFT JOIN outputs o ON o.action_id = a.action_id AND a.iteration < 0
        WHERE a.rn <= ?
        ORDER BY a.started_at, a.action_id, a.iteration, a.attempt`,
      LIMITS.MAX_ATTEMPTS_IN_VIEW,
    )
    .toArray();
  return rows.map(({ out, ...r }) => {
    let response = r.response ? (JSON.parse(r.response) as Record<string, unknown>) : null;
    if (response?.body_in_outputs) {
      const { body_in_outputs: _b, ...rest } = response;
      response = { ...rest, body: out ? (JSON.parse(out) as { body?: unknown }).body : null };
    }
    return {
      ...r,
      iteration: r.iteration < 0 ? null : r.iteration,
      request: r.request ? JSON.parse(r.request) : null,
      response,
      error: r.error ? JSON.parse(r.error) : null,
    };
  });
}

/** The rows the views read: every action's outputs, the first iterations of each loop, the latest attempts. */
export function readDetail(sql: SqlStorage): ExecutionDetail {
  const outputs: ExecutionDetail["outputs"] = {};
  for (const r of sql.exec<{ action_id: string; data: string }>(`SELECT action_id, data FROM outputs`)) {
    outputs[r.action_id] = JSON.parse(r.data) as Record<string, unknown>;
  }
  const iterations: ExecutionDetail["iterations"] = {};
  for (const r of sql.exec<{
    action_id: string;
    idx: number;
    status: string;
    started_at: number | null;
    ended_at: number | null;
    error: string | null;
    outputs: string | null;
    truncated: number;
  }>(
    `SELECT action_id, idx, status, started_at, ended_at, error, outputs, truncated FROM iterations WHERE idx < ? ORDER BY action_id, idx`,
    LIMITS.MAX_ITERATIONS_IN_VIEW,
  )) {
    const view: IterationView = {
      index: r.idx,
      execution_status: r.status,
      ...(r.started_at !== null ? { started_at: r.started_at } : {}),
      ...(r.ended_at !== null ? { ended_at: r.ended_at } : {}),
      ...(r.error ? { error_output: JSON.parse(r.error) } : {}),
      outputs: r.outputs ? (JSON.parse(r.outputs) as Record<string, unknown>) : null,
      ...(r.truncated ? { outputs_truncated: true } : {}),
    };
    (iterations[r.action_id] ??= []).push(view);
  }
  return { outputs, iterations, attempts: readAttempts(sql) };
}
