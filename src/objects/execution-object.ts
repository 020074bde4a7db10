import { DurableObject } from "cloudflare:workers";
import { actionHandler } from "../actions/registry";
import type { ActionContext, ActionResult } from "../actions/types";
import { advance } from "../engine/execution/advance";
import { retriggerRefusal } from "../engine/execution/apply";
import { createExecutionState, type NewExecution } from "../engine/execution/create";
import type { ActionOutcome, EngineEvent, ExecutionState, RetryStrategy, RunActionCommand } from "../engine/execution/types";
import { isFinal } from "../engine/execution/types";
import type { Env } from "../env";
import { randomToken, sha256Hex, timingSafeEqual } from "../lib/crypto";
import { withD1Meter } from "../lib/d1-meter";
import { ExecutionStorage, type AttemptDetail, type LoggedEvent } from "../store/execution-storage";
import { summaryStatement } from "../store/executions";
import { finishStatements } from "../store/flow-stats";
import { bulkItemStatements } from "../store/bulk-jobs";
import { onBulkItemFinished } from "../services/bulk-jobs";
import { sendFailureNotification } from "./failure-notification";

/** Action runs per alarm invocation before the object yields (re-arms its alarm) to stay within CPU limits. */
export const MAX_RUNS_PER_INVOCATION = 10;
/** Wall-clock budget of one alarm invocation, in ms, checked between action runs. */
export const INVOCATION_BUDGET_MS = 15_000;
/** Real-time delay of the alarm kept armed while an invocation runs, so a crashed invocation is resumed. */
export const WATCHDOG_MS = 60_000;
/** Days a finished execution's storage is kept when EXECUTION_RETENTION_DAYS is not set. */
export const DEFAULT_RETENTION_DAYS = 30;

export interface ExecutionSnapshot {
  state: ExecutionState;
  attempts: AttemptDetail[];
}

export type ControlResult = { ok: true; snapshot: ExecutionSnapshot } | { ok: false; status: 400 | 404 | 409; message: string };

/**
 * One execution: stores its state machine and drives it with alarms. The decisions come from the pure
 * engine (`advance`); this class stores state, runs the commands and feeds their results back.
 */
export class ExecutionObject extends DurableObject<Env> {
  /** The engine's clock (ms). Tests replace it to move time; alarms compare timers against it. */
  clock: () => number = () => Date.now();
  private readonly store: ExecutionStorage;
  private settleWaiters: (() => void)[] = [];
  private alarmQueue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withD1Meter(env));
    this.store = new ExecutionStorage(ctx.storage);
    this.store.migrate();
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /** Creates the execution (idempotent: a second start with the same id changes nothing) and arms the alarm. */
  async start(input: NewExecution): Promise<{ created: boolean; status: string }> {
    const existing = this.store.loadState();
    if (existing) {
      await this.flushOutbox();
      if (existing.status === "pending") await this.wakeAt(this.clock());
      return { created: false, status: existing.status };
    }
    const now = this.clock();
    const state = createExecutionState(input, now);
    this.store.create(state);
    if (isFinal(state.status)) {
      // Created final (a hot flow's execution): nothing runs; its summary is written below and its storage pruned later.
      this.store.setTimer("prune", now + (Number(this.env.EXECUTION_RETENTION_DAYS) || DEFAULT_RETENTION_DAYS) * 86_400_000);
      await this.syncAlarm();
    } else {
      await this.wakeAt(now);
    }
    await this.flushOutbox();
    return { created: true, status: state.status };
  }

  async snapshot(): Promise<ExecutionSnapshot | null> {
    const state = this.store.loadState();
    return state ? { state, attempts: this.store.attempts() } : null;
  }

  async eventLog(): Promise<LoggedEvent[]> {
    return this.store.events();
  }

  async cancel(reason?: string): Promise<ControlResult> {
    const state = this.store.loadState();
    if (!state) return { ok: false, status: 404, message: "Execution not found" };
    if (isFinal(state.status)) return { ok: false, status: 409, message: `The execution already ended (${state.status})` };
    await this.apply({ type: "cancelled", reason: reason ?? "Cancelled by request" });
    this.store.clearTimer("wake");
    await this.syncAlarm();
    return this.ok();
  }

  async retrigger(actionId: string, strategy: RetryStrategy, conditionId?: string): Promise<ControlResult> {
    const state = this.store.loadState();
    if (!state) return { ok: false, status: 404, message: "Execution not found" };
    if (!state.actions.some((a) => a.id === actionId)) return { ok: false, status: 404, message: `Action ${actionId} not found` };
    const refusal = retriggerRefusal(state, actionId, strategy, conditionId);
    if (refusal) return { ok: false, status: 409, message: refusal };
    await this.apply({ type: "retriggered", action_id: actionId, strategy, condition_id: conditionId });
    await this.wakeAt(this.clock());
    return this.ok();
  }

  /** Resumes a paused execution with its token: single use, this execution only. */
  async resume(token: string, payload?: Record<string, unknown>): Promise<ControlResult & { resumed_action_id?: string }> {
    const state = this.store.loadState();
    if (!state) return { ok: false, status: 404, message: "Execution not found" };
    const expected = state.resume?.token_hash;
    if (state.status !== "paused" || !expected) {
      return {
        ok: false,
        status: 400,
        message: `The execution is ${state.status}, not waiting to be resumed (a token is single use)`,
      };
    }
    if (!timingSafeEqual(await sha256Hex(token), expected)) return { ok: false, status: 400, message: "Invalid resume token" };
    const actionId = state.resume!.action_id;
    await this.apply({ type: "resumed", action_id: actionId, payload });
    await this.wakeAt(this.clock());
    return { ...this.ok(), resumed_action_id: actionId };
  }

  async cancelSchedule(scheduleId: string): Promise<ControlResult> {
    const state = this.store.loadState();
    if (!state) return { ok: false, status: 404, message: "Execution not found" };
    if (!state.flow.schedules?.some((s) => s.id === scheduleId))
      return { ok: false, status: 404, message: `Schedule ${scheduleId} not found` };
    if (isFinal(state.status)) return { ok: false, status: 409, message: `The execution already ended (${state.status})` };
    await this.apply({ type: "schedule_cancelled", schedule_id: scheduleId });
    await this.wakeAt(this.clock());
    return this.ok();
  }

  /** Waits until the execution is final, paused or waiting for time, or `timeoutMs` passed; returns its status. */
  async waitUntilSettled(timeoutMs: number): Promise<string> {
    const settled = (s: ExecutionState | null) => !s || isFinal(s.status) || s.status === "paused" || s.status === "scheduled";
    const deadline = Date.now() + timeoutMs;
    while (!settled(this.store.loadState()) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.settleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.store.loadState()?.status ?? "unknown";
  }

  // ---- alarm ------------------------------------------------------------------------------

  /** Alarm invocations of one instance run one after another (a test may fire one while another runs). */
  override async alarm(): Promise<void> {
    const run = this.alarmQueue.then(() => this.onAlarm());
    this.alarmQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Reconciliation: an unfinished execution must always have an alarm. Re-arms a lost one (and flushes
   * a summary stuck in the outbox). Returns what it found.
   */
  async ensureAlarm(): Promise<"missing" | "final" | "ok" | "rearmed"> {
    const state = this.store.loadState();
    if (!state) return "missing";
    await this.flushOutbox();
    if (isFinal(state.status)) return "final";
    if ((await this.ctx.storage.getAlarm()) !== null) return "ok";
    if (this.store.earliestTimer() === null) this.store.setTimer("wake", this.clock());
    await this.syncAlarm();
    return "rearmed";
  }

  /** The earliest pending wake-up on the engine's clock, or null. */
  async nextWakeAt(): Promise<number | null> {
    return this.store.earliestTimer();
  }

  private async onAlarm(): Promise<void> {
    const now = this.clock();
    const state = this.store.loadState();
    const due = this.store.timers().filter((t) => t.due_at <= now);
    if (!state || (due.some((t) => t.kind === "prune") && isFinal(state.status))) {
      // Retention: the execution's storage goes; the (now empty) tables are recreated so this
      // instance keeps answering (an unknown execution) until it is evicted.
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.store.migrate();
      return;
    }
    // If this invocation dies (crash, eviction, deploy), the watchdog alarm brings the execution back;
    // the run that was in flight is then recorded as interrupted.
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    await this.flushOutbox();
    if (due.some((t) => t.kind === "wake")) this.store.clearTimer("wake");
    await this.drive(state.status === "pending" ? { type: "started" } : { type: "wake" });
    await this.syncAlarm();
  }

  // ---- the loop ----------------------------------------------------------------------------

  /** Applies events and runs the resulting actions until the execution waits, finishes or must yield. */
  private async drive(first: EngineEvent): Promise<void> {
    const began = Date.now();
    let runs = 0;
    // A run still marked dispatched means the runtime restarted while it was in flight: it is recorded
    // as interrupted (outcome unknown) and retried with the same idempotency key, within its attempt budget.
    const stale = this.store.pending();
    const c = stale?.dispatched_at !== undefined ? stale.command : null;
    let event: EngineEvent = c
      ? { type: "action_interrupted", action_id: c.action_id, iteration: c.iteration, attempt: c.attempt, run: c.run }
      : first;

    for (;;) {
      await this.apply(event);
      const pending = this.store.pending();
      if (!pending || pending.dispatched_at !== undefined) return;
      if (runs >= MAX_RUNS_PER_INVOCATION || Date.now() - began > INVOCATION_BUDGET_MS) {
        await this.wakeAt(this.clock()); // yield: the next alarm runs the pending command
        return;
      }
      this.store.markDispatched(pending, this.clock());
      event = await this.runAction(pending.command);
      runs++;
    }
  }

  /** advance() + commit + the commands that are not action runs (those are left pending for drive()). */
  private async apply(event: EngineEvent): Promise<void> {
    const now = this.clock();
    const prev = this.store.loadState();
    if (!prev) return;
    const { state, commands } = advance(prev, event, now);
    const run = commands.find((c): c is RunActionCommand => c.type === "run_action") ?? null;
    const stillInFlight = state.actions.some((a) => a.in_flight);
    const finished = commands.some((c) => c.type === "finished");
    const summary = finished || commands.some((c) => c.type === "write_summary");
    this.store.commit(state, event, now, run ?? (stillInFlight ? "keep" : null), summary ? { finished } : null);
    for (const c of commands) if (c.type === "wake_at") this.store.setTimer("wake", c.at);
    if (finished) {
      this.store.clearTimer("wake");
      const days = Number(this.env.EXECUTION_RETENTION_DAYS) || DEFAULT_RETENTION_DAYS;
      this.store.setTimer("prune", now + days * 86_400_000);
    }
    if (summary) await this.flushOutbox();
    if (state.status !== prev.status) this.notifySettled();
  }

  private async runAction(cmd: RunActionCommand): Promise<EngineEvent> {
    const state = this.store.loadState()!;
    const handler = actionHandler(cmd.action_type);
    const started = this.clock();
    let result: ActionResult;
    if (!handler) {
      result = {
        kind: "failed",
        error: { error_code: "BAD_CONFIG", error_reason: `Unknown action type ${cmd.action_type}` },
        retry: "never",
      };
    } else {
      const parsed = handler.config.safeParse(cmd.config);
      if (!parsed.success) {
        result = {
          kind: "failed",
          error: {
            error_code: "BAD_CONFIG",
            error_reason: `Invalid config for ${cmd.action_type}`,
            error_info: { details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
          },
          retry: "never",
        };
      } else {
        try {
          result = await handler.run(this.actionContext(state, cmd), parsed.data);
        } catch (err) {
          result = {
            kind: "failed",
            error: { error_code: "INTERNAL_ERROR", error_reason: (err as Error).message ?? String(err) },
            retry: "policy",
          };
        }
      }
    }
    const { request, response, ...outcome } = result;
    this.store.recordAttempt({
      action_id: cmd.action_id,
      iteration: cmd.iteration ?? null,
      attempt: cmd.attempt,
      started_at: started,
      ended_at: this.clock(),
      outcome: outcome.kind,
      request,
      response,
      error: outcome.kind === "failed" ? outcome.error : undefined,
    });
    return {
      type: "action_result",
      action_id: cmd.action_id,
      iteration: cmd.iteration,
      attempt: cmd.attempt,
      run: cmd.run,
      outcome: outcome as ActionOutcome,
    };
  }

  private actionContext(state: ExecutionState, cmd: RunActionCommand): ActionContext {
    return {
      env: this.env,
      orgId: state.org_id,
      executionId: state.id,
      flowId: state.flow.id,
      actionId: cmd.action_id,
      attempt: cmd.attempt,
      iteration: cmd.iteration,
      idempotencyKey: cmd.idempotency_key,
      now: this.clock(),
      depth: state.depth,
      entityId: state.entity_id,
      entity: state.entity,
      triggerEvent: state.trigger_event,
      issueResumeToken: async () => {
        const token = `${state.id}.${randomToken(32)}`;
        return { token, hash: await sha256Hex(token) };
      },
    };
  }

  // ---- D1 outbox, timers -------------------------------------------------------------------

  /** Writes the pending summary (and finish bookkeeping) to D1; kept in the outbox until it succeeds. */
  private async flushOutbox(): Promise<void> {
    const outbox = this.store.outbox();
    const state = this.store.loadState();
    if (!outbox || !state) return;
    const db = this.env.DB;
    const finished = outbox.finished && isFinal(state.status);
    // A bulk item follows its execution: waiting frees its room in the job's window, and any final status
    // ends it (a cancel writes a summary without the `finished` command).
    const bulk = bulkItemStatements(db, state);
    const results = await db.batch([summaryStatement(db, state), ...(finished ? finishStatements(db, state) : []), ...bulk]);
    // Kept in the outbox until the report is requested: a replay re-checks the job and asks again.
    if (bulk.length && isFinal(state.status)) await onBulkItemFinished(this.env, state, results[results.length - 1].results[0]);
    this.store.clearOutbox();
    if (finished && state.status === "failed") await sendFailureNotification(this.env, state);
  }

  private async wakeAt(at: number): Promise<void> {
    this.store.setTimer("wake", at);
    await this.syncAlarm();
  }

  /** Keeps the one alarm on the earliest timer (in real time: timers of a moved test clock fire at once). */
  private async syncAlarm(): Promise<void> {
    const earliest = this.store.earliestTimer();
    if (earliest === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const realAt = Date.now() + Math.max(0, earliest - this.clock());
    await this.ctx.storage.setAlarm(realAt);
  }

  private notifySettled(): void {
    const waiters = this.settleWaiters;
    this.settleWaiters = [];
    for (const w of waiters) w();
  }

  private ok(): { ok: true; snapshot: ExecutionSnapshot } {
    return { ok: true, snapshot: { state: this.store.loadState()!, attempts: this.store.attempts() } };
  }
}
