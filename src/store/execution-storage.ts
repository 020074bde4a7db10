import type { Command, EngineEvent, ExecutionData, ExecutionState, FlowSnapshot, RunActionCommand } from "../engine/execution/types";
import type { AttemptView, ExecutionDetail, IterationView } from "../engine/execution/views";
import { LIMITS } from "../lib/limits";
import { migrateStorage, storageVersion, type ObjectMigrations } from "./object-schema";

/**
 * The SQL of an ExecutionObject's own SQLite storage (see docs/storage-schema.md):
 * - `schema_version`: one row, the storage layout's version; MIGRATIONS bring older storage up to date.
 * - `kv`: `flow` (the snapshot) and `input` (entity, trigger event, context, variables, user), both
 *   written once; `state` (the machine's mutable state); `pending` (the run_action command about to be
 *   performed, with `dispatched_at` once it started); `outbox` (the D1 write still due); `resume_token`.
 * - `events`: the append-only event log; its first entry (`created`) carries the creation input.
 * - `attempts`: request/response detail of each attempt.
 * - `outputs`, `iterations`, `loop_items`: what the engine emits as `store_*` commands, a row each.
 * - `timers`: pending wake-ups (`wake`, `prune`); the object's single alarm is set to the earliest.
 */
export interface PendingRun {
  command: RunActionCommand;
  dispatched_at?: number;
}

export interface Outbox {
  /** The execution finished: flow statistics, circuit breaker, failure notification and release are due too. */
  finished: boolean;
}

/** Request/response detail of one attempt (the engine's view type). */
export type AttemptDetail = AttemptView;

export interface LoggedEvent {
  seq: number;
  at: number;
  type: string;
  data: EngineEvent;
}

/** The parts of the state written once, at creation, and kept out of the per-step state row. */
const INPUT_KEYS = ["entity", "trigger_event", "workflow_context", "variables", "user"] as const;
type StoredInput = Pick<ExecutionState, (typeof INPUT_KEYS)[number]>;

/** Ordered storage migrations: entry i brings storage from version i to i + 1. Never edit a shipped one. */
const MIGRATIONS: ObjectMigrations = [
  // 1: the first layout: everything but the event log, attempts and timers inside kv's state value.
  [
    `CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS attempts (action_id TEXT NOT NULL, iteration INTEGER NOT NULL, attempt INTEGER NOT NULL,
       started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, request TEXT, response TEXT, error TEXT,
       PRIMARY KEY (action_id, iteration, attempt))`,
    `CREATE TABLE IF NOT EXISTS timers (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL)`,
  ],
  // 2: bounded state: outputs, loop iterations and loop items as rows of their own (the state value is
  // upcast on its first load, engine/execution/upcast.ts); the creation input out of the state row.
  [
    `CREATE TABLE IF NOT EXISTS outputs (action_id TEXT PRIMARY KEY, data TEXT NOT NULL, truncated INTEGER NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS iterations (action_id TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
       started_at INTEGER, ended_at INTEGER, error TEXT, outputs TEXT, truncated INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (action_id, idx))`,
    `CREATE TABLE IF NOT EXISTS loop_items (action_id TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (action_id, idx))`,
  ],
];
export const STORAGE_VERSION = MIGRATIONS.length;
/** Storage from before schema versions: version 1 if it has the first layout's tables. */
const LEGACY_VERSION = (has: (table: string) => boolean): number => (has("kv") ? 1 : 0);

export class ExecutionStorage implements ExecutionData {
  /** The flow snapshot and input never change after creation: read once per instance. */
  private immutable: { flow: FlowSnapshot; input: StoredInput } | null = null;
  private outputCache = new Map<string, Record<string, unknown> | undefined>();

  /** `retentionMs`: how long a finished execution's storage is kept (its `prune` timer). */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly retentionMs: number,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  // ---- schema --------------------------------------------------------------------------------

  /** Whether this object holds an execution at all; reading it creates nothing. */
  exists(): boolean {
    return this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'`).toArray().length > 0;
  }

  version(): number {
    return storageVersion(this.sql, LEGACY_VERSION);
  }

  /** Runs the migrations this storage has not had yet, in order, atomically. */
  migrate(): void {
    migrateStorage(this.storage, MIGRATIONS, LEGACY_VERSION);
  }

  /** Forgets everything (retention); the instance answers as an unknown execution afterwards. */
  async deleteAll(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
    this.immutable = null;
    this.outputCache.clear();
  }

  // ---- kv -----------------------------------------------------------------------------------

  private get<T>(key: string): T | null {
    const rows = this.sql.exec<{ value: string }>(`SELECT value FROM kv WHERE key = ?`, key).toArray();
    return rows.length ? (JSON.parse(rows[0].value) as T) : null;
  }

  private put(key: string, value: unknown): void {
    this.sql.exec(
      `INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      key,
      JSON.stringify(value),
    );
  }

  private delete(key: string): void {
    this.sql.exec(`DELETE FROM kv WHERE key = ?`, key);
  }

  /** The stored state as written (any layout version), joined with the flow and input; null when there is none. */
  loadRaw(): ExecutionState | null {
    const state = this.get<Omit<ExecutionState, "flow">>("state");
    if (!state) return null;
    if (!this.immutable) {
      const flow = this.get<FlowSnapshot>("flow")!;
      // Version-1 storage kept the input inside the state row.
      const input = this.get<StoredInput>("input") ?? (Object.fromEntries(INPUT_KEYS.map((k) => [k, state[k]])) as StoredInput);
      this.immutable = { flow, input };
    }
    return { ...state, ...this.immutable.input, flow: this.immutable.flow };
  }

  /** Creates the execution: flow, input, initial state, the `created` event and its commands' effects. */
  create(state: ExecutionState, event: EngineEvent, now: number, commands: readonly Command[]): void {
    this.storage.transactionSync(() => {
      this.put("flow", state.flow);
      this.put("input", Object.fromEntries(INPUT_KEYS.map((k) => [k, state[k]])));
      this.immutable = null;
      this.commitInside(state, event, now, null, commands);
    });
  }

  /**
   * Stores the new state, the event that produced it (null for an upcast), the next run (a new command,
   * `"keep"` while an earlier run is still in flight, or null) and the effects of the commands that are
   * storage (outputs, iterations, items, attempts closed, timers, the D1 outbox), atomically.
   */
  commit(
    state: ExecutionState,
    event: EngineEvent | null,
    now: number,
    pending: RunActionCommand | "keep" | null,
    commands: readonly Command[],
    consumeWake = false,
  ): void {
    this.storage.transactionSync(() => {
      // The wake-up this step answers goes in the same transaction; the commands set the next one, if any.
      if (consumeWake) this.clearTimer("wake");
      this.commitInside(state, event, now, pending, commands);
    });
  }

  private commitInside(
    state: ExecutionState,
    event: EngineEvent | null,
    now: number,
    pending: RunActionCommand | "keep" | null,
    commands: readonly Command[],
  ): void {
    const { flow: _flow, entity: _e, trigger_event: _t, workflow_context: _w, variables: _v, user: _u, ...rest } = state;
    this.put("state", rest);
    if (event) this.sql.exec(`INSERT INTO events (at, type, data) VALUES (?, ?, ?)`, now, event.type, JSON.stringify(event));
    if (pending === null) this.delete("pending");
    else if (pending !== "keep") this.put("pending", { command: pending } satisfies PendingRun);
    if (!state.resume) this.delete("resume_token");
    for (const c of commands) this.applyCommand(c, now);
  }

  private applyCommand(c: Command, now: number): void {
    switch (c.type) {
      case "store_output":
        this.outputCache.delete(c.action_id);
        if (c.outputs === null) this.sql.exec(`DELETE FROM outputs WHERE action_id = ?`, c.action_id);
        else
          this.sql.exec(
            `INSERT INTO outputs (action_id, data, truncated) VALUES (?, ?, ?)
             ON CONFLICT (action_id) DO UPDATE SET data = excluded.data, truncated = excluded.truncated`,
            c.action_id,
            JSON.stringify(c.outputs),
            c.truncated ? 1 : 0,
          );
        return;
      case "store_loop_items":
        this.sql.exec(`DELETE FROM loop_items WHERE action_id = ?`, c.action_id);
        c.items.forEach((item, i) =>
          this.sql.exec(`INSERT INTO loop_items (action_id, idx, data) VALUES (?, ?, ?)`, c.action_id, i, JSON.stringify(item ?? null)),
        );
        return;
      case "store_iteration": {
        const it = c.iteration;
        const hasOutputs = c.outputs !== undefined;
        this.sql.exec(
          `INSERT INTO iterations (action_id, idx, status, started_at, ended_at, error, outputs, truncated)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (action_id, idx) DO UPDATE SET status = excluded.status,
             started_at = COALESCE(excluded.started_at, iterations.started_at),
             ended_at = COALESCE(excluded.ended_at, iterations.ended_at),
             error = excluded.error,
             outputs = CASE WHEN ? THEN excluded.outputs ELSE iterations.outputs END,
             truncated = CASE WHEN ? THEN excluded.truncated ELSE iterations.truncated END`,
          c.action_id,
          it.index,
          it.execution_status,
          it.started_at ?? null,
          it.ended_at ?? null,
          it.error_output ? JSON.stringify(it.error_output) : null,
          hasOutputs && c.outputs !== null ? JSON.stringify(c.outputs) : null,
          c.truncated ? 1 : 0,
          hasOutputs ? 1 : 0,
          hasOutputs ? 1 : 0,
        );
        return;
      }
      case "clear_iterations":
        this.sql.exec(`DELETE FROM iterations WHERE action_id = ?`, c.action_id);
        return;
      case "close_attempt":
        this.sql.exec(
          `INSERT INTO attempts (action_id, iteration, attempt, started_at, ended_at, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (action_id, iteration, attempt) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome,
             error = excluded.error`,
          c.action_id,
          c.iteration ?? -1,
          c.attempt,
          c.started_at,
          c.ended_at,
          c.outcome,
          c.error ? JSON.stringify(c.error) : null,
        );
        return;
      case "wake_at":
        this.setTimer("wake", c.at);
        return;
      case "write_summary":
        if (!this.get<Outbox>("outbox")) this.put("outbox", { finished: false } satisfies Outbox);
        return;
      case "finished":
        this.clearTimer("wake");
        this.setTimer("prune", now + this.retentionMs);
        this.put("outbox", { finished: true } satisfies Outbox);
        return;
      case "clear_retention":
        this.clearTimer("prune");
        // A finish not yet written to D1 is void: the execution runs again and will finish again.
        this.put("outbox", { finished: false } satisfies Outbox);
        return;
      case "run_action":
        return;
    }
  }

  // ---- ExecutionData: what the engine reads besides the state ---------------------------------

  output(actionId: string): Record<string, unknown> | undefined {
    if (this.outputCache.has(actionId)) return this.outputCache.get(actionId);
    const row = this.sql.exec<{ data: string }>(`SELECT data FROM outputs WHERE action_id = ?`, actionId).toArray()[0];
    const value = row ? (JSON.parse(row.data) as Record<string, unknown>) : undefined;
    this.outputCache.set(actionId, value);
    return value;
  }

  loopItem(actionId: string, index: number): unknown {
    const row = this.sql
      .exec<{ data: string }>(`SELECT data FROM loop_items WHERE action_id = ? AND idx = ?`, actionId, index)
      .toArray()[0];
    return row ? JSON.parse(row.data) : undefined;
  }

  iterationOutputs(actionId: string): (Record<string, unknown> | null)[] {
    const out: (Record<string, unknown> | null)[] = [];
    for (const r of this.sql.exec<{ idx: number; outputs: string | null }>(
      `SELECT idx, outputs FROM iterations WHERE action_id = ? ORDER BY idx`,
      actionId,
    )) {
      while (out.length < r.idx) out.push(null);
      out[r.idx] = r.outputs ? (JSON.parse(r.outputs) as Record<string, unknown>) : null;
    }
    return out;
  }

  // ---- outbox, pending run, resume token ----------------------------------------------------

  /** What is still to be written to D1 (the summary row, and the finish bookkeeping). */
  outbox(): Outbox | null {
    return this.get<Outbox>("outbox");
  }

  clearOutbox(): void {
    this.delete("outbox");
  }

  pending(): PendingRun | null {
    return this.get<PendingRun>("pending");
  }

  /** Written just before the side effect starts: after a crash, a dispatched run is known to have been in flight. */
  markDispatched(pending: PendingRun, now: number): void {
    this.put("pending", { ...pending, dispatched_at: now });
  }

  /** The token of the current pause, kept only here so getExecution can show it to who may resume. */
  setResumeToken(token: string): void {
    this.put("resume_token", token);
  }

  resumeToken(): string | null {
    return this.get<string>("resume_token");
  }

  // ---- attempts -------------------------------------------------------------------------------

  /**
   * Records an attempt's result. A response body that is also the action's (or iteration's) output is
   * stored once, in the outputs row: the attempt keeps `body_in_outputs` and the view joins them again.
   */
  recordAttempt(d: AttemptDetail, outputs?: Record<string, unknown>): void {
    let response = d.response;
    if (outputs && response && typeof response === "object" && "body" in response) {
      const body = (response as { body: unknown }).body;
      if (body !== undefined && JSON.stringify(body) === JSON.stringify(outputs.body)) {
        const { body: _body, ...rest } = response as Record<string, unknown>;
        response = { ...rest, body_in_outputs: true };
      }
    }
    this.sql.exec(
      `INSERT INTO attempts (action_id, iteration, attempt, started_at, ended_at, outcome, request, response, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (action_id, iteration, attempt) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome,
         request = excluded.request, response = excluded.response, error = excluded.error`,
      d.action_id,
      d.iteration ?? -1,
      d.attempt,
      d.started_at,
      d.ended_at,
      d.outcome,
      d.request === undefined ? null : JSON.stringify(d.request),
      response === undefined ? null : JSON.stringify(response),
      d.error === undefined ? null : JSON.stringify(d.error),
    );
  }

  /** The latest MAX_ATTEMPTS_IN_VIEW attempts of each action, oldest first, bodies joined from the outputs. */
  attempts(): AttemptDetail[] {
    const rows = this.sql
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
  detail(): ExecutionDetail {
    const outputs: ExecutionDetail["outputs"] = {};
    for (const r of this.sql.exec<{ action_id: string; data: string }>(`SELECT action_id, data FROM outputs`)) {
      outputs[r.action_id] = JSON.parse(r.data) as Record<string, unknown>;
    }
    const iterations: ExecutionDetail["iterations"] = {};
    for (const r of this.sql.exec<{
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
    return { outputs, iterations, attempts: this.attempts() };
  }

  events(): LoggedEvent[] {
    if (!this.exists()) return [];
    return this.sql
      .exec<{ seq: number; at: number; type: string; data: string }>(`SELECT seq, at, type, data FROM events ORDER BY seq`)
      .toArray()
      .map((r) => ({ ...r, data: JSON.parse(r.data) as EngineEvent }));
  }

  // ---- timers ---------------------------------------------------------------------------------

  setTimer(kind: string, dueAt: number): void {
    this.sql.exec(
      `INSERT INTO timers (kind, due_at) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET due_at = excluded.due_at`,
      kind,
      dueAt,
    );
  }

  clearTimer(kind: string): void {
    this.sql.exec(`DELETE FROM timers WHERE kind = ?`, kind);
  }

  timers(): { kind: string; due_at: number }[] {
    return this.sql.exec<{ kind: string; due_at: number }>(`SELECT kind, due_at FROM timers ORDER BY due_at`).toArray();
  }

  earliestTimer(): number | null {
    if (!this.exists()) return null;
    const rows = this.sql.exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM timers`).toArray();
    return rows[0]?.due ?? null;
  }
}
