import type { EngineEvent, ExecutionState, FlowSnapshot, RunActionCommand } from "../engine/execution/types";
import type { AttemptView } from "../engine/execution/views";

/**
 * The SQL of an ExecutionObject's own SQLite storage (see docs/storage-schema.md):
 * - `kv`: `flow` (the snapshot, written once), `state` (the machine's state without the flow),
 *   `pending` (the run_action command about to be performed, with `dispatched_at` once it started).
 * - `events`: the append-only event log (the run's history, replayable through the engine).
 * - `attempts`: request/response detail of each attempt.
 * - `timers`: pending wake-ups; the object's single alarm is always set to the earliest.
 */
export interface PendingRun {
  command: RunActionCommand;
  dispatched_at?: number;
}

export interface Outbox {
  /** The execution finished: flow statistics, circuit breaker and failure notification are due too. */
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

export class ExecutionStorage {
  constructor(private readonly storage: DurableObjectStorage) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  migrate(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
    );
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS attempts (action_id TEXT NOT NULL, iteration INTEGER NOT NULL, attempt INTEGER NOT NULL,
         started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, request TEXT, response TEXT, error TEXT,
         PRIMARY KEY (action_id, iteration, attempt))`,
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS timers (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL)`);
  }

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

  loadState(): ExecutionState | null {
    const state = this.get<Omit<ExecutionState, "flow">>("state");
    if (!state) return null;
    const flow = this.get<FlowSnapshot>("flow");
    return { ...state, flow: flow! };
  }

  /** Creates the execution (flow snapshot and initial state) with its summary due in the outbox (and its finish, when created final: `hot`). */
  create(state: ExecutionState): void {
    this.storage.transactionSync(() => {
      this.put("flow", state.flow);
      this.saveStateOnly(state);
      this.put("outbox", { finished: state.finished_at !== undefined } satisfies Outbox);
    });
  }

  private saveStateOnly(state: ExecutionState): void {
    const { flow: _flow, ...rest } = state;
    this.put("state", rest);
  }

  private appendEvent(event: EngineEvent, now: number): void {
    this.sql.exec(`INSERT INTO events (at, type, data) VALUES (?, ?, ?)`, now, event.type, JSON.stringify(event));
  }

  /**
   * Stores the new state, the event that produced it, the next run (a new command, `"keep"` while an
   * earlier run is still in flight, or null) and the D1 outbox, atomically.
   */
  commit(
    state: ExecutionState,
    event: EngineEvent,
    now: number,
    pending: RunActionCommand | "keep" | null,
    outbox: Outbox | null,
  ): void {
    this.storage.transactionSync(() => {
      this.saveStateOnly(state);
      this.appendEvent(event, now);
      if (pending === null) this.delete("pending");
      else if (pending !== "keep") this.put("pending", { command: pending } satisfies PendingRun);
      if (outbox) {
        const prev = this.get<Outbox>("outbox");
        this.put("outbox", { finished: outbox.finished || (prev?.finished ?? false) });
      }
    });
  }

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

  recordAttempt(d: AttemptDetail): void {
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
      d.response === undefined ? null : JSON.stringify(d.response),
      d.error === undefined ? null : JSON.stringify(d.error),
    );
  }

  attempts(): AttemptDetail[] {
    return this.sql
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
      }>(`SELECT * FROM attempts ORDER BY started_at, action_id, iteration, attempt`)
      .toArray()
      .map((r) => ({
        ...r,
        iteration: r.iteration < 0 ? null : r.iteration,
        request: r.request ? JSON.parse(r.request) : null,
        response: r.response ? JSON.parse(r.response) : null,
        error: r.error ? JSON.parse(r.error) : null,
      }));
  }

  events(): LoggedEvent[] {
    return this.sql
      .exec<{ seq: number; at: number; type: string; data: string }>(`SELECT seq, at, type, data FROM events ORDER BY seq`)
      .toArray()
      .map((r) => ({ ...r, data: JSON.parse(r.data) as EngineEvent }));
  }

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
    const rows = this.sql.exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM timers`).toArray();
    return rows[0]?.due ?? null;
  }
}
