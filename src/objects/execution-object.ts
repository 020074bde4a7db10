import { DurableObject } from "cloudflare:workers";
import { advance } from "../engine/execution/advance";
import { controlRefusal } from "../engine/execution/apply";
import { deliveryRefusal } from "../engine/execution/event-wait";
import { createExecution, type NewExecution } from "../engine/execution/create";
import type {
  ApprovalDecision,
  Command,
  EngineEvent,
  ExecutionState,
  LoggedEvent,
  RetryStrategy,
  RunActionCommand,
} from "../engine/execution/types";
import { isFinal } from "../engine/execution/types";
import { upcastState } from "../engine/execution/upcast";
import { EMPTY_DETAIL } from "../engine/execution/views";
import { buildLedger, ledgerEntries, type EffectsLedger } from "../engine/reruns/ledger";
import { previewRerun } from "../engine/reruns/preview";
import type {
  AlarmCheck,
  ControlResult,
  DeliveryResult,
  ExecutionObjectRpc,
  ExecutionSnapshot,
  ExportedLog,
  PreviewResult,
  RerunOptions,
  ResumeResult,
  StartOutcome,
} from "../contracts/execution-object";
import type { Env } from "../env";
import { sha256Hex, timingSafeEqual } from "../lib/crypto";
import { withD1Meter } from "../lib/d1-meter";
import { LIMITS } from "../lib/limits";
import { ExecutionStorage, type PendingRun } from "../store/execution-storage";
import { summaryStatement } from "../store/executions";
import { finishBatch } from "../store/flow-stats";
import { invalidateFlow } from "../store/flow-invalidation";
import { bulkItemStatements } from "../store/bulk-jobs";
import { onBulkItemFinished } from "../services/bulk-jobs";
import { releaseSlot } from "../services/admission";
import { clearEventWait, registerEventWait } from "../services/event-waits";
import { runActionCommand } from "./action-runner";
import { plannedRun } from "./action-effects";
import { sendFailureNotification } from "./failure-notification";

const NOT_FOUND = { ok: false, status: 404, message: "Execution not found" } as const;

/** The `retriggered` event's fields, optional ones only when given (the event log keeps what was asked). */
const retriggerFields = (actionId: string, strategy: RetryStrategy, conditionId?: string, options: RerunOptions = {}) => ({
  action_id: actionId,
  strategy,
  ...(conditionId !== undefined ? { condition_id: conditionId } : {}),
  ...(options.reuse_outputs?.length ? { reuse_outputs: options.reuse_outputs } : {}),
  ...(options.rerun_key ? { rerun_key: options.rerun_key } : {}),
});

/**
 * One execution: stores its state machine and drives it with alarms. The decisions come from the pure
 * engine (`advance`); this class stores state, carries out the commands and feeds their results back.
 */
export class ExecutionObject extends DurableObject<Env> implements ExecutionObjectRpc {
  /** The engine's clock (ms). Tests replace it to move time; alarms compare timers against it. */
  clock: () => number = () => Date.now();
  private readonly store: ExecutionStorage;
  private settleWaiters: (() => void)[] = [];
  private alarmQueue: Promise<unknown> = Promise.resolve();
  /** The state as last committed: read from storage once per instance (this object is its only writer). */
  private cached: ExecutionState | null | undefined;
  /** When the oldest summary not yet written to D1 was deferred by the running drive (see flushIfStale). */
  private summaryDeferredAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withD1Meter(env));
    const days = Number(env.EXECUTION_RETENTION_DAYS) || LIMITS.EXECUTION_RETENTION_DAYS_DEFAULT;
    this.store = new ExecutionStorage(ctx.storage, days * 86_400_000);
  }

  // ---- state ---------------------------------------------------------------------------------

  /** The state, or null for an id that never started (nothing is created by asking). Older layouts are upcast. */
  private load(): ExecutionState | null {
    if (this.cached !== undefined) return this.cached;
    if (!this.store.exists()) return null; // not cached: a start may create it later
    this.store.migrate();
    const raw = this.store.loadRaw();
    if (!raw) return null;
    const { state, commands } = upcastState(raw);
    if (commands.length > 0 || raw.v !== state.v) this.store.commit(state, null, this.clock(), "keep", commands);
    this.cached = state;
    return state;
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /**
   * Creates the execution (idempotent: a second start with the same id changes nothing) and starts
   * running it. The first step runs in this invocation, right after the answer, instead of one alarm
   * later: the alarm is armed as the watchdog first, so if this invocation dies the alarm brings the
   * execution back. Its D1 row is then a summary of the drive like any other: deferred, so a short run
   * writes D1 once, when it finishes, and a longer one within SUMMARY_DEFER_MS (services/executions.ts
   * findExecutionRow answers for it meanwhile). EXECUTION_INLINE_START=0 leaves the first step to the
   * alarm and writes the row before answering.
   */
  async start(input: NewExecution): Promise<StartOutcome> {
    // Usually a new object: found empty once, not asked again by migrate().
    const empty = this.cached === undefined && !this.store.exists();
    const existing = empty ? null : this.load();
    if (existing) {
      await this.flushOutbox();
      if ((await this.ctx.storage.getAlarm()) === null && this.store.earliestTimer() !== null) await this.syncAlarm();
      return { created: false, status: existing.status, snapshot: this.snapshotOf(existing) };
    }
    const now = this.clock();
    const { state, commands } = createExecution(input, now);
    this.store.create(state, { type: "created", input }, now, commands, empty);
    this.cached = state;
    const inline = this.env.EXECUTION_INLINE_START !== "0" && this.wakeDue(now);
    if (inline) {
      await this.ctx.storage.setAlarm(Date.now() + LIMITS.WATCHDOG_MS);
      if (this.store.outbox()) this.summaryDeferredAt = now;
    } else {
      await this.syncAlarm();
      await this.flushOutbox();
    }
    // A just-created execution has no outputs or attempts: its detail needs no read.
    const snapshot: ExecutionSnapshot = { state, detail: EMPTY_DETAIL };
    if (inline) void this.alarmQueueRun(() => this.runDue(false));
    return { created: true, status: state.status, snapshot };
  }

  /**
   * The execution as `orgId` may see it: null when it belongs to another organization (checked here as well as by the
   * caller). Without an org only for the engine's own bookkeeping and tests, which act for no organization.
   */
  async snapshot(orgId?: string): Promise<ExecutionSnapshot | null> {
    const state = this.load();
    return state && (orgId === undefined || state.org_id === orgId) ? this.snapshotOf(state) : null;
  }

  /** The ledger of side effects (engine/reruns/ledger.ts), one page of it; null for an unknown execution. */
  async effects(orgId: string, page: { from: number; size: number }): Promise<EffectsLedger | null> {
    const state = this.load();
    return state && state.org_id === orgId ? buildLedger(state.id, this.store.ledgerRows(), state.flow.actions, page) : null;
  }

  async eventLog(): Promise<LoggedEvent[]> {
    return this.store.events();
  }

  /**
   * The run's whole record for a replay fixture: its event log (from `created`), the state as stored
   * and every action's stored outputs. Replaying the log through advance() must give the same.
   */
  async exportLog(): Promise<ExportedLog | null> {
    const state = this.load();
    if (!state) return null;
    return { events: this.store.events(), state, outputs: this.store.detail().outputs };
  }

  /** Control calls name the organization they act for: another organization's execution is not found. */
  async cancel(orgId: string, reason?: string): Promise<ControlResult> {
    return this.control(orgId, { type: "cancelled", reason: reason ?? "Cancelled by request" });
  }

  async retrigger(
    orgId: string,
    actionId: string,
    strategy: RetryStrategy,
    conditionId?: string,
    options?: RerunOptions,
  ): Promise<ControlResult> {
    const state = this.load();
    if (options?.rerun_key && state?.org_id === orgId && this.store.hasRerun(options.rerun_key))
      return { ok: true, snapshot: this.snapshotOf(state) };
    return this.control(orgId, { type: "retriggered", ...retriggerFields(actionId, strategy, conditionId, options) });
  }

  /**
   * What the same retrigger would do, sending nothing: the engine applies it to a copy of the state and
   * simulates the rest (engine/reruns/preview.ts), the action types say what each run would send. Refused
   * exactly as the retrigger would be.
   */
  async previewRetrigger(
    orgId: string,
    actionId: string,
    strategy: RetryStrategy,
    conditionId?: string,
    options?: RerunOptions,
  ): Promise<PreviewResult> {
    const state = this.load();
    if (!state || state.org_id !== orgId) return NOT_FOUND;
    const event = { type: "retriggered" as const, ...retriggerFields(actionId, strategy, conditionId, options) };
    const refusal = controlRefusal(state, event);
    if (refusal) return { ok: false, ...refusal };
    const sent = new Set<string>();
    for (const e of ledgerEntries(this.store.ledgerRows(), state.flow.actions))
      if (e.idempotency_key) sent.add(e.idempotency_key);
    const plan = (s: ExecutionState, cmd: RunActionCommand) => plannedRun(this.env, s, cmd);
    return { ok: true, preview: await previewRerun(state, event, this.clock(), this.store, plan, sent) };
  }

  /** Resumes a paused execution with its token: single use, this execution only. */
  async resume(orgId: string, token: string, payload?: Record<string, unknown>): Promise<ResumeResult> {
    const state = this.load();
    if (!state || state.org_id !== orgId) return NOT_FOUND;
    const actionId = state.resume?.action_id ?? "";
    const event: EngineEvent = { type: "resumed", action_id: actionId, payload };
    const refusal = controlRefusal(state, event);
    if (refusal) return { ok: false, ...refusal };
    if (!timingSafeEqual(await sha256Hex(token), state.resume!.token_hash))
      return { ok: false, status: 400, message: "Invalid resume token" };
    const res = await this.control(orgId, event);
    return res.ok ? { ...res, resumed_action_id: actionId } : res;
  }

  /** A person's decision on the tool call an action waits for (ai_agent approvals). */
  async decideApproval(
    orgId: string,
    actionId: string,
    decision: ApprovalDecision,
    comment?: string,
    by?: string,
  ): Promise<ControlResult> {
    return this.control(orgId, { type: "approval_decided", action_id: actionId, decision, comment, by });
  }

  async cancelSchedule(orgId: string, scheduleId: string): Promise<ControlResult> {
    return this.control(orgId, { type: "schedule_cancelled", schedule_id: scheduleId });
  }

  /**
   * An event for a waiting wait_for_event action (services/event-waits.ts found it through the index). The
   * engine checks it again and records it; when the wait is over the execution is woken to go on.
   * Idempotent: an event for a spec already matched changes nothing.
   */
  async deliverEvent(orgId: string, actionId: string, spec: number, event: Record<string, unknown>): Promise<DeliveryResult> {
    const state = this.load();
    if (!state || state.org_id !== orgId) return NOT_FOUND;
    const refusal = deliveryRefusal(state, actionId, spec);
    if (refusal) return { ok: false, status: 409, message: refusal };
    const before = state.actions.find((a) => a.id === actionId)?.event_wait?.matched.length ?? 0;
    await this.applyAndCarryOut({ type: "event_received", action_id: actionId, spec, event });
    const after = this.load()!;
    const action = after.actions.find((a) => a.id === actionId);
    const matched = !action?.event_wait || action.event_wait.matched.length > before;
    // The wait is over: the next step runs in the alarm, as after a resume.
    if (!action?.event_wait) this.store.setTimer("wake", this.clock());
    await this.syncAlarm();
    return { ok: true, matched, status: after.status };
  }

  /** Waits until the execution is final, paused or waiting for time, or `timeoutMs` passed; returns its status. */
  async waitUntilSettled(timeoutMs: number): Promise<string> {
    const settled = (s: ExecutionState | null) => !s || isFinal(s.status) || s.status === "paused" || s.status === "scheduled";
    const deadline = Date.now() + timeoutMs;
    while (!settled(this.load()) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.settleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.load()?.status ?? "unknown";
  }

  /**
   * Reconciliation: an unfinished execution must always have an alarm. Re-arms a lost one (and flushes
   * a summary stuck in the outbox). Returns what it found; an unknown id is left without storage.
   */
  async ensureAlarm(): Promise<AlarmCheck> {
    const state = this.load();
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

  // ---- alarm ------------------------------------------------------------------------------

  /** Alarm invocations of one instance run one after another (a test may fire one while another runs). */
  override async alarm(): Promise<void> {
    return this.alarmQueueRun(() => this.onAlarm());
  }

  private alarmQueueRun(work: () => Promise<void>): Promise<void> {
    const run = this.alarmQueue.then(work);
    this.alarmQueue = run.catch((err) => {
      // An inline start's drive has no caller to report to; the watchdog alarm retries it.
      console.warn(`execution ${this.cached?.id ?? "?"}: drive failed (the alarm retries it): ${String(err)}`);
    });
    return run;
  }

  /** Whether a wake-up is set and due (the engine's clock). */
  private wakeDue(now: number): boolean {
    return this.store.timers().some((t) => t.kind === "wake" && t.due_at <= now);
  }

  private async onAlarm(): Promise<void> {
    const now = this.clock();
    const state = this.load();
    const timers = state ? this.store.timers() : [];
    const prune = timers.find((t) => t.kind === "prune");
    if (!state || (prune && prune.due_at <= now)) {
      // Retention (the prune timer exists only while the execution is final): its storage goes.
      await this.store.deleteAll();
      this.cached = undefined;
      return;
    }
    // An outbox this instance deferred (a yield) waits for its drive; any other (a crash's) is written now.
    if (this.summaryDeferredAt === null) await this.flushOutbox();
    // Work is due when a wake-up is set (the alarm is always on the earliest timer; the engine re-plans
    // any wait that is not over yet), or a run is pending: a yield, or a run in flight when the runtime
    // died (the watchdog alarm brings it back). Otherwise nothing runs and nothing is logged.
    if (!timers.some((t) => t.kind === "wake") && !this.store.pending()) {
      await this.syncAlarm();
      return;
    }
    await this.runDue(true);
  }

  /**
   * Drives the execution from its due wake-up or pending run. If this invocation dies (crash, eviction,
   * deploy), the watchdog alarm brings the execution back; the run that was in flight is then recorded
   * as interrupted. An inline start armed the watchdog already (`armWatchdog` false).
   */
  private async runDue(armWatchdog: boolean): Promise<void> {
    if (armWatchdog) await this.ctx.storage.setAlarm(Date.now() + LIMITS.WATCHDOG_MS);
    await this.drive({ type: "wake" });
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
    if (c) await this.recordInterruptedEffects(c, stale!.dispatched_at!);
    let event: EngineEvent = c
      ? { type: "action_interrupted", action_id: c.action_id, iteration: c.iteration, attempt: c.attempt, run: c.run }
      : first;

    // The first commit consumes the wake-up, atomically: a crash before it leaves the wake-up set.
    let consumeWake = true;
    let yielded = false;
    try {
      for (;;) {
        const mayRun = runs < LIMITS.MAX_RUNS_PER_INVOCATION && Date.now() - began <= LIMITS.INVOCATION_BUDGET_MS;
        // A run this drive performs right after the commit is committed as dispatched in it (one write before
        // the side effect, not two); not when a stale summary is written to D1 between them (flushIfStale).
        const { commands, dispatched } = await this.apply(event, consumeWake, true, mayRun && !this.summaryStale());
        consumeWake = false;
        let pending = dispatched;
        if (!pending) {
          // A wait to index answers with its lookback: applied as the next event of this drive.
          const follow = await this.carryOut(commands);
          if (follow) {
            event = follow;
            continue;
          }
          pending = this.store.pending();
          if (!pending || pending.dispatched_at !== undefined) return;
          if (!mayRun) {
            // Yield: the next alarm runs the pending command (and keeps deferring the summary).
            this.store.setTimer("wake", this.clock());
            yielded = true;
            return;
          }
          await this.flushIfStale();
          pending = this.store.markDispatched(pending, this.clock());
        }
        event = await this.flushingWhenLate(this.runAction(pending.command));
        runs++;
      }
    } finally {
      // Whatever the drive stops at (a wait, a finish, an error), its summary goes to D1 now.
      if (!yielded) await this.flushOutbox();
    }
  }

  /**
   * Summaries of a running drive are deferred: a short run writes D1 once when it finishes ("started"
   * folds into "finished"), not once per status change. One older than SUMMARY_DEFER_MS is written
   * before the next action, so lists follow a long run. The outbox keeps a deferred summary durable.
   */
  private async flushIfStale(): Promise<void> {
    if (this.summaryStale()) await this.flushOutbox();
  }

  private summaryStale(): boolean {
    return this.summaryDeferredAt !== null && this.clock() - this.summaryDeferredAt >= LIMITS.SUMMARY_DEFER_MS;
  }

  /**
   * Waits for an action; a summary still deferred when it turns SUMMARY_DEFER_MS old is written meanwhile,
   * so a long action does not keep its run out of lists. Returns once both are done: the next commit
   * comes after that flush, which clears only the outbox it wrote (clearOutboxIf).
   */
  private async flushingWhenLate<T>(action: Promise<T>): Promise<T> {
    if (this.summaryDeferredAt === null) return action;
    let flushing: Promise<void> | null = null;
    const wait = Math.max(0, this.summaryDeferredAt + LIMITS.SUMMARY_DEFER_MS - this.clock());
    const timer = setTimeout(() => {
      // A failure leaves the outbox for the drive's own flush (or the alarm's) to write.
      flushing = this.flushOutbox().catch((err) => console.warn(`execution ${this.cached?.id ?? "?"}: summary: ${String(err)}`));
    }, wait);
    try {
      return await action;
    } finally {
      clearTimeout(timer);
      if (flushing) await flushing;
    }
  }

  /**
   * advance() + one atomic commit of the state, the event and every command's storage effect; then D1:
   * at once, or (`deferSummary`, inside a drive) a summary is left in the outbox for the drive to write.
   * `dispatch`: the drive performs a new run right after this commit, so it is committed as dispatched
   * (returned as `dispatched`); not when the commands ask for D1 work first (an event-wait index write).
   */
  private async apply(
    event: EngineEvent,
    consumeWake = false,
    deferSummary = false,
    dispatch = false,
  ): Promise<{ commands: Command[]; dispatched: PendingRun | null }> {
    const now = this.clock();
    const prev = this.load();
    if (!prev) return { commands: [], dispatched: null };
    const { state, commands } = advance(prev, event, now, this.store);
    const run = commands.find((c): c is RunActionCommand => c.type === "run_action") ?? null;
    const stillInFlight = state.actions.some((a) => a.in_flight);
    const dispatched: PendingRun | null =
      run && dispatch && !commands.some((c) => c.type === "register_wait" || c.type === "clear_wait")
        ? { command: run, dispatched_at: now }
        : null;
    this.store.commit(state, event, now, dispatched ?? run ?? (stillInFlight ? "keep" : null), commands, consumeWake);
    this.cached = state;
    if (commands.some((c) => c.type === "finished")) await this.flushOutbox();
    else if (commands.some((c) => c.type === "write_summary")) {
      if (!deferSummary) await this.flushOutbox();
      else this.summaryDeferredAt ??= this.clock();
    }
    if (state.status !== prev.status) this.notifySettled();
    return { commands, dispatched };
  }

  /** A control call: the engine says whether it applies; if so it is applied and the execution woken. */
  private async control(orgId: string, event: EngineEvent): Promise<ControlResult> {
    const state = this.load();
    if (!state || state.org_id !== orgId) return NOT_FOUND;
    const refusal = controlRefusal(state, event);
    if (refusal) return { ok: false, ...refusal };
    const commands = await this.applyAndCarryOut(event);
    // The engine asked for a run (a retrigger, a resume, a schedule let go): wake now to perform it.
    if (commands.some((c) => c.type === "run_action")) this.store.setTimer("wake", this.clock());
    await this.syncAlarm();
    return { ok: true, snapshot: this.snapshotOf(this.load()!) };
  }

  /** apply() outside a drive, with the D1 work its commands ask for (and the events that answers); returns the last commands. */
  private async applyAndCarryOut(first: EngineEvent): Promise<Command[]> {
    let event: EngineEvent | null = first;
    let commands: Command[] = [];
    while (event) {
      ({ commands } = await this.apply(event));
      event = await this.carryOut(commands);
    }
    return commands;
  }

  /**
   * The commands that are D1 work, after their commit: a wait_for_event wait is indexed (its lookback comes
   * back as the `wait_registered` event to apply next) or taken out of the index. An index write that fails
   * throws: the wake-up the engine set when it asked brings the execution back to ask again.
   */
  private async carryOut(commands: Command[]): Promise<EngineEvent | null> {
    const state = this.load();
    if (!state) return null;
    for (const c of commands) if (c.type === "clear_wait") await clearEventWait(this.env, state.id, c.action_id);
    const register = commands.find((c) => c.type === "register_wait");
    if (!register) return null;
    const matches = await registerEventWait(this.env, state, register.action_id, register.wait);
    return { type: "wait_registered", action_id: register.action_id, matches };
  }

  /**
   * An attempt in flight when the runtime restarted may or may not have had its effects: they are kept on its
   * row as planned, outcome unknown (the ledger shows them). A failure to plan them loses only that detail.
   */
  private async recordInterruptedEffects(cmd: RunActionCommand, dispatchedAt: number): Promise<void> {
    const state = this.load();
    if (!state) return;
    const inFlight = state.actions.find((a) => a.id === cmd.action_id)?.in_flight;
    if (inFlight?.run !== cmd.run) return;
    const planned = await plannedRun(this.env, state, cmd).catch(() => null);
    if (!planned || planned.effects.length === 0) return;
    this.store.recordPlannedEffects(
      {
        action_id: cmd.action_id,
        iteration: cmd.iteration ?? null,
        attempt: cmd.number ?? cmd.attempt,
        started_at: inFlight.started_at ?? dispatchedAt,
      },
      planned.effects,
    );
  }

  /** Runs the command (objects/action-runner.ts) and records its attempt; returns the event for the engine. */
  private async runAction(cmd: RunActionCommand): Promise<EngineEvent> {
    const state = this.load()!;
    // Only a multi-step action past its first step has progress: other runs read nothing more.
    const stepped = state.actions.find((a) => a.id === cmd.action_id)?.step !== undefined;
    const progress = stepped ? this.store.progress(cmd.action_id) : null;
    const run = await runActionCommand(this.env, state, cmd, this.clock, this.store, progress);
    if (run.resumeToken) this.store.setResumeToken(run.resumeToken);
    this.store.recordAttempt(run.attempt, run.outputs);
    return run.event;
  }

  // ---- D1 outbox, timers -------------------------------------------------------------------

  /** Writes the pending summary (and finish bookkeeping) to D1; kept in the outbox until it succeeds. */
  private async flushOutbox(): Promise<void> {
    const outbox = this.store.outbox();
    const state = this.load();
    if (!outbox || !state) return;
    const version = this.store.outboxVersion();
    const db = this.env.DB;
    const finished = outbox.finished;
    // A bulk item follows its execution: waiting frees its room in the job's window, and finishing ends it.
    const bulk = bulkItemStatements(db, state);
    const results = await db.batch([...(finished ? finishBatch(db, state) : [summaryStatement(db, state)]), ...bulk]);
    // Kept in the outbox until the report is requested: a replay re-checks the job and asks again.
    if (bulk.length && finished) await onBulkItemFinished(this.env, state, results[results.length - 1].results[0]);
    // Under a concurrency_limit: frees the slot and starts the next waiting execution (no-op otherwise; never throws).
    if (finished) await releaseSlot(this.env, state);
    // A failure may have opened the circuit breaker (disabled the flow): this isolate stops reusing it.
    if (finished && state.status === "failed") invalidateFlow(state.flow.id);
    if (this.store.clearOutboxIf(version)) this.summaryDeferredAt = null;
    if (finished && state.status === "failed") await sendFailureNotification(this.env, state);
  }

  /** Keeps the one alarm on the earliest timer (in real time: timers of a moved test clock fire at once). */
  private async syncAlarm(): Promise<void> {
    const earliest = this.store.earliestTimer();
    if (earliest === null) {
      if (this.store.exists()) await this.ctx.storage.deleteAlarm();
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

  private snapshotOf(state: ExecutionState): ExecutionSnapshot {
    const token = state.resume ? this.store.resumeToken() : null;
    return { state, detail: this.store.detail(), ...(token ? { resume_token: token } : {}) };
  }
}
