import type {
  Command,
  EngineEvent,
  ExecutionData,
  ExecutionState,
  FlowSnapshot,
  LoggedEvent,
  RunActionCommand,
} from "../engine/execution/types";
import type { AttemptView, ExecutionDetail } from "../engine/execution/views";
import type { LedgerRow } from "../engine/reruns/ledger";
import type { SideEffect } from "../engine/reruns/side-effects";
import { CURRENT_LAYOUT, LEGACY_VERSION, MIGRATIONS } from "./execution-migrations";
import { readAttempts, readDetail, readLedgerRows, writeAttempt, writePlannedEffects } from "./execution-detail";
import { migrateStorage, storageVersion } from "./object-schema";

/**
 * The SQL of an ExecutionObject's own SQLite storage (see docs/storage-schema.md):
 * - `schema_version`: one row, the storage layout's version; MIGRATIONS bring older storage up to date.
 * - `kv`: `flow` (the snapshot) and `input` (entity, trigger event, context, variables, user), both
 *   written once; `state` (the machine's mutable state); `pending` (the run_action command about to be
 *   performed, with `dispatched_at` once it started); `outbox` (the D1 write still due); `resume_token`;
 *   `progress:<action_id>` (what a multi-step action, ai_agent, carries from one step to the next);
 *   `timer:<kind>`: pending wake-ups (`wake`, `prune`), their due time; the object's single alarm is set to
 *   the earliest. A commit writes them with its other kv rows, in one statement.
 * - `events`: the append-only event log; its first entry (`created`) carries the creation input.
 * - `attempts`: request/response detail of each attempt.
 * - `outputs`, `iterations`, `loop_items`: what the engine emits as `store_*` commands, a row each.
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

/** The parts of the state written once, at creation, and kept out of the per-step state row. */
const INPUT_KEYS = ["entity", "trigger_event", "trigger_events", "workflow_context", "variables", "user"] as const;
type StoredInput = Pick<ExecutionState, (typeof INPUT_KEYS)[number]>;

export const STORAGE_VERSION = MIGRATIONS.length;

/** Small kv rows read on every step: mirrored in memory, since the object is their only writer. */
const MIRRORED_KEYS = new Set(["pending", "outbox", "resume_token"]);

const progressKey = (actionId: string) => `progress:${actionId}`;
const TIMER = "timer:";

export class ExecutionStorage implements ExecutionData {
  /** The flow snapshot and input never change after creation: read once per instance. */
  private immutable: { flow: FlowSnapshot; input: StoredInput } | null = null;
  private outputCache = new Map<string, Record<string, unknown> | undefined>();
  /**
   * Memory mirrors of what this object alone writes, so a step reads nothing it wrote itself: whether
   * the tables exist, the small kv rows (value, or null for "no row") and the timers. `undefined` means
   * "not known yet: ask SQLite". A transaction that throws drops them all (its writes were rolled back).
   */
  private existsMirror: boolean | undefined;
  private kvMirror = new Map<string, unknown>();
  private timerMirror: Map<string, number> | undefined;
  private migrated = false;
  /** Bumped by every write of the outbox: a flush clears only the outbox it wrote (see clearOutboxIf). */
  private outboxWrites = 0;
  /**
   * kv writes of the open transaction, by key (JSON, or null for a delete): written in one statement when
   * it ends, instead of one per key (a commit touches up to four keys; each call is native work and a span).
   */
  private kvWrites: Map<string, string | null> | null = null;

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
    if (this.existsMirror) return true;
    // Only "yes" is kept: an id that never started is asked again (tests plant storage from outside).
    this.existsMirror =
      this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'`).toArray().length > 0 || undefined;
    return this.existsMirror === true;
  }

  version(): number {
    return storageVersion(this.sql, LEGACY_VERSION);
  }

  /**
   * Runs the migrations this storage has not had yet, in order, atomically; empty storage gets the current
   * layout in one call. `knownEmpty`: the caller just found no storage (exists() false), so it is not asked again.
   */
  migrate(knownEmpty = false): void {
    if (this.migrated) return; // once per instance: only this code writes the layout
    const fresh = knownEmpty || !this.exists();
    // No kv table: empty storage (every layout has it, and migrations are atomic), version 0 without probing.
    migrateStorage(this.storage, MIGRATIONS, LEGACY_VERSION, {
      knownFrom: fresh ? 0 : undefined,
      layout: CURRENT_LAYOUT,
      // Inside create()'s transaction: the layout and the first writes are one commit.
      inTransaction: this.kvWrites !== null,
    });
    this.migrated = true;
    if (fresh) {
      // Fresh storage: nothing in it yet, so the mirrors start out complete.
      for (const key of MIRRORED_KEYS) this.kvMirror.set(key, null);
      this.timerMirror = new Map();
    }
    this.existsMirror = true;
  }

  /** Forgets everything (retention); the instance answers as an unknown execution afterwards. */
  async deleteAll(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
    this.immutable = null;
    this.outputCache.clear();
    this.forgetMirrors();
    this.migrated = false;
  }

  // ---- kv -----------------------------------------------------------------------------------

  private forgetMirrors(): void {
    this.existsMirror = undefined;
    this.migrated = false;
    this.kvMirror.clear();
    this.timerMirror = undefined;
  }

  /** A transaction whose failure also drops the memory mirrors (SQLite rolled the writes back). */
  private transaction(fn: () => void): void {
    // Nested: the outer transaction writes the buffered kv rows when it ends.
    if (this.kvWrites) return fn();
    this.kvWrites = new Map();
    try {
      this.storage.transactionSync(() => {
        fn();
        this.writeKv();
      });
    } catch (err) {
      this.forgetMirrors();
      this.outputCache.clear();
      throw err;
    } finally {
      this.kvWrites = null;
    }
  }

  /**
   * The open transaction's kv writes in one upsert. A key removed is written as JSON `null`, which reads as
   * no row (get() answers null for both), so a commit that removes keys (the pending run, a timer) costs no
   * second statement; the keys are a small fixed set per execution, so the null rows stay few.
   */
  private writeKv(): void {
    const writes = [...(this.kvWrites ?? [])];
    if (writes.length)
      this.sql.exec(
        `INSERT INTO kv (key, value) VALUES ${writes.map(() => "(?, ?)").join(", ")}
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        ...writes.flatMap(([k, v]) => [k, v ?? "null"]),
      );
  }

  private get<T>(key: string): T | null {
    if (this.kvMirror.has(key)) return this.kvMirror.get(key) as T | null;
    const buffered = this.kvWrites?.get(key);
    if (buffered !== undefined) return buffered === null ? null : (JSON.parse(buffered) as T);
    const rows = this.sql.exec<{ value: string }>(`SELECT value FROM kv WHERE key = ?`, key).toArray();
    const value = rows.length ? (JSON.parse(rows[0].value) as T) : null;
    if (MIRRORED_KEYS.has(key)) this.kvMirror.set(key, value);
    return value;
  }

  private put(key: string, value: unknown): void {
    if (key === "outbox") this.outboxWrites++;
    if (this.kvWrites) this.kvWrites.set(key, JSON.stringify(value));
    else
      this.sql.exec(
        `INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        key,
        JSON.stringify(value),
      );
    if (MIRRORED_KEYS.has(key)) this.kvMirror.set(key, value);
  }

  private delete(key: string): void {
    if (this.kvMirror.get(key) === null) return; // known absent: nothing to delete
    if (this.kvWrites) this.kvWrites.set(key, null);
    else this.sql.exec(`DELETE FROM kv WHERE key = ?`, key);
    if (MIRRORED_KEYS.has(key)) this.kvMirror.set(key, null);
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

  /**
   * Creates the execution: flow, input, initial state, the `created` event and its commands' effects, with
   * the layout (migrate) in the same transaction. `knownEmpty`: as for migrate().
   */
  create(state: ExecutionState, event: EngineEvent, now: number, commands: readonly Command[], knownEmpty = false): void {
    this.transaction(() => {
      this.migrate(knownEmpty);
      this.put("flow", state.flow);
      this.put("input", Object.fromEntries(INPUT_KEYS.map((k) => [k, state[k]])));
      this.immutable = null;
      this.commitInside(state, event, now, null, commands);
    });
  }

  /**
   * Stores the new state, the event that produced it (null for an upcast), the next run (a new command, or
   * one already marked dispatched; `"keep"` while an earlier run is still in flight, or null) and the effects of the commands that are
   * storage (outputs, iterations, items, attempts closed, timers, the D1 outbox), atomically.
   */
  commit(
    state: ExecutionState,
    event: EngineEvent | null,
    now: number,
    pending: RunActionCommand | PendingRun | "keep" | null,
    commands: readonly Command[],
    consumeWake = false,
  ): void {
    this.transaction(() => {
      // The wake-up this step answers goes in the same transaction; the commands set the next one, if any.
      if (consumeWake) this.clearTimer("wake");
      this.commitInside(state, event, now, pending, commands);
    });
  }

  private commitInside(
    state: ExecutionState,
    event: EngineEvent | null,
    now: number,
    pending: RunActionCommand | PendingRun | "keep" | null,
    commands: readonly Command[],
  ): void {
    const {
      flow: _flow,
      entity: _e,
      trigger_event: _t,
      trigger_events: _ts,
      workflow_context: _w,
      variables: _v,
      user: _u,
      ...rest
    } = state;
    this.put("state", rest);
    if (event) this.sql.exec(`INSERT INTO events (at, type, data) VALUES (?, ?, ?)`, now, event.type, JSON.stringify(event));
    if (pending === null) this.delete("pending");
    else if (pending !== "keep") this.put("pending", "type" in pending ? ({ command: pending } satisfies PendingRun) : pending);
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
          this.sql.exec(
            `INSERT INTO loop_items (action_id, idx, data) VALUES (?, ?, ?)`,
            c.action_id,
            i,
            JSON.stringify(item ?? null),
          ),
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
      case "store_progress":
        if (c.progress === null) this.delete(progressKey(c.action_id));
        else this.put(progressKey(c.action_id), c.progress);
        return;
      case "run_action":
      case "register_wait":
      case "clear_wait":
        // Carried out by the object after the commit (D1 and the event-wait index), not storage.
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

  /** Identifies the outbox as it is now, for clearOutboxIf. */
  outboxVersion(): number {
    return this.outboxWrites;
  }

  /**
   * Clears the outbox if it was not written since `version` was read; false otherwise. A flush that ran
   * while the engine went on (a deferred summary written during a long action) must not drop the newer
   * write still due.
   */
  clearOutboxIf(version: number): boolean {
    if (this.outboxWrites !== version) return false;
    this.delete("outbox");
    return true;
  }

  pending(): PendingRun | null {
    return this.get<PendingRun>("pending");
  }

  /** Written just before the side effect starts: after a crash, a dispatched run is known to have been in flight. */
  markDispatched(pending: PendingRun, now: number): PendingRun {
    const dispatched = { ...pending, dispatched_at: now };
    this.put("pending", dispatched);
    return dispatched;
  }

  /** A multi-step action's progress (null before its first step and after it ended). */
  progress(actionId: string): unknown {
    return this.get<unknown>(progressKey(actionId));
  }

  /** The token of the current pause, kept only here so getExecution can show it to who may resume. */
  setResumeToken(token: string): void {
    this.put("resume_token", token);
  }

  resumeToken(): string | null {
    return this.get<string>("resume_token");
  }

  // ---- attempts and the views' rows (execution-detail.ts) -----------------------------------

  /** Records an attempt's result; a body equal to the outputs' is stored once (see writeAttempt). */
  recordAttempt(d: AttemptDetail, outputs?: Record<string, unknown>): void {
    writeAttempt(this.sql, d, outputs);
  }

  attempts(): AttemptDetail[] {
    return readAttempts(this.sql);
  }

  /** The effects an interrupted attempt would have caused, kept on its row (outcome unknown). */
  recordPlannedEffects(
    a: { action_id: string; iteration: number | null; attempt: number; started_at: number },
    effects: SideEffect[],
  ): void {
    writePlannedEffects(this.sql, a, effects);
  }

  /** Every attempt row with its effects: what the ledger is built from. */
  ledgerRows(): LedgerRow[] {
    return this.exists() ? readLedgerRows(this.sql) : [];
  }

  detail(): ExecutionDetail {
    return readDetail(this.sql);
  }

  /** Whether the event log holds a rerun asked for under this key. */
  hasRerun(key: string): boolean {
    return (
      this.sql
        .exec(`SELECT 1 FROM events WHERE type = 'retriggered' AND json_extract(data, '$.rerun_key') = ? LIMIT 1`, key)
        .toArray().length > 0
    );
  }

  events(): LoggedEvent[] {
    if (!this.exists()) return [];
    return this.sql
      .exec<{ seq: number; at: number; type: string; data: string }>(`SELECT seq, at, type, data FROM events ORDER BY seq`)
      .toArray()
      .map((r) => ({ ...r, data: JSON.parse(r.data) as EngineEvent }));
  }

  // ---- timers ---------------------------------------------------------------------------------

  private timerMap(): Map<string, number> {
    // The `timer:` keys are a range of kv's primary key (`;` sorts right after `:`).
    this.timerMirror ??= new Map(
      this.sql
        .exec<{ key: string; value: string }>(
          `SELECT key, value FROM kv WHERE key > ? AND key < ? AND value <> 'null'`,
          TIMER,
          "timer;",
        )
        .toArray()
        .map((t) => [t.key.slice(TIMER.length), Number(t.value)]),
    );
    return this.timerMirror;
  }

  /** Inside a commit, written with its other kv rows (one statement); outside, one statement of its own. */
  setTimer(kind: string, dueAt: number): void {
    const timers = this.timerMap();
    if (timers.get(kind) === dueAt) return;
    this.put(TIMER + kind, dueAt);
    timers.set(kind, dueAt);
  }

  clearTimer(kind: string): void {
    const timers = this.timerMap();
    if (!timers.has(kind)) return;
    this.delete(TIMER + kind);
    timers.delete(kind);
  }

  timers(): { kind: string; due_at: number }[] {
    return [...this.timerMap()].map(([kind, due_at]) => ({ kind, due_at })).sort((a, b) => a.due_at - b.due_at);
  }

  earliestTimer(): number | null {
    if (!this.exists()) return null;
    let min: number | null = null;
    for (const due of this.timerMap().values()) if (min === null || due < min) min = due;
    return min;
  }
}
