import type { NewExecution } from "../engine/execution/create";
import type { ApprovalDecision, ExecutionState, LoggedEvent, RetryStrategy } from "../engine/execution/types";
import type { ExecutionDetail } from "../engine/execution/views";
import type { EffectsLedger } from "../engine/reruns/ledger";
import type { RerunPreview } from "../engine/reruns/preview";

/**
 * What an ExecutionObject answers over RPC: the class (objects/execution-object.ts) implements this
 * interface, env.ts types the EXECUTIONS namespace with it, and callers reach it through
 * services/object-clients.ts. Types only, so both sides import it without importing each other.
 */

export interface ExecutionSnapshot {
  state: ExecutionState;
  detail: ExecutionDetail;
  /** The current pause's resume token; the API shows it only to principals that may resume. */
  resume_token?: string;
}

/** What start() says: whether it created the execution, its status, and its snapshot for the caller's answer. */
export interface StartOutcome {
  created: boolean;
  status: string;
  snapshot: ExecutionSnapshot;
}

/** A control call's answer: the execution after it, or why it does not apply (an HTTP status and a message). */
export type ControlResult = { ok: true; snapshot: ExecutionSnapshot } | { ok: false; status: 400 | 404 | 409; message: string };

/** What a delivered event did: whether it matched the wait (it may still wait for more), and the execution's status after it. */
export type DeliveryResult = { ok: true; matched: boolean; status: string } | { ok: false; status: 404 | 409; message: string };
/** What a rerun may say besides its action and strategy (docs/reruns.md). */
export interface RerunOptions {
  /** Actions kept as they are: their recorded outputs feed the later steps. */
  reuse_outputs?: string[];
  /** A rerun asked for once (a bulk rerun's item): a key the event log already has is not applied again. */
  rerun_key?: string;
}

/** A rerun's preview, or why the rerun would be refused (as the retrigger itself would be). */
export type PreviewResult = { ok: true; preview: RerunPreview } | { ok: false; status: 400 | 404 | 409; message: string };

/** A resume also names the action it resumed. */
export type ResumeResult = ControlResult & { resumed_action_id?: string };

/** The run's whole record for a replay fixture: its event log, the state as stored and every action's outputs. */
export interface ExportedLog {
  events: LoggedEvent[];
  state: ExecutionState;
  outputs: Record<string, Record<string, unknown>>;
}

/** What the reconciliation's alarm check found: no execution, a final one, an armed one, or one it re-armed. */
export type AlarmCheck = "missing" | "final" | "ok" | "rearmed";

export interface ExecutionObjectRpc {
  /** Creates the execution (idempotent per id) and starts running it. */
  start(input: NewExecution): Promise<StartOutcome>;
  /**
   * The execution, or null for an id that never started (asking creates nothing) or, with `orgId`, for another
   * organization's execution: the object checks the org itself, on top of its caller. Without an org only for the
   * engine's own bookkeeping and tests, which act for no organization.
   */
  snapshot(orgId?: string): Promise<ExecutionSnapshot | null>;
  eventLog(): Promise<LoggedEvent[]>;
  exportLog(): Promise<ExportedLog | null>;
  /** Control calls name the organization they act for: another organization's execution is not found (404). */
  cancel(orgId: string, reason?: string): Promise<ControlResult>;
  /** A rerun from the action (docs/reruns.md). */
  retrigger(
    orgId: string,
    actionId: string,
    strategy: RetryStrategy,
    conditionId?: string,
    options?: RerunOptions,
  ): Promise<ControlResult>;
  /** What the same retrigger would do, sending nothing. */
  previewRetrigger(
    orgId: string,
    actionId: string,
    strategy: RetryStrategy,
    conditionId?: string,
    options?: RerunOptions,
  ): Promise<PreviewResult>;
  /** The ledger of side effects, one page of it; null for an unknown execution or another organization's. */
  effects(orgId: string, page: { from: number; size: number }): Promise<EffectsLedger | null>;
  /** Resumes a paused execution with its token: single use, this execution only. */
  resume(orgId: string, token: string, payload?: Record<string, unknown>): Promise<ResumeResult>;
  cancelSchedule(orgId: string, scheduleId: string): Promise<ControlResult>;
  /** A person's decision on the tool call an action (ai_agent) waits for. */
  decideApproval(
    orgId: string,
    actionId: string,
    decision: ApprovalDecision,
    comment?: string,
    by?: string,
  ): Promise<ControlResult>;
  /** An event for a waiting wait_for_event action (found through the index); checked again, idempotent per spec. */
  deliverEvent(orgId: string, actionId: string, spec: number, event: Record<string, unknown>): Promise<DeliveryResult>;
  /** Waits until the execution is final, paused or waiting for time, or `timeoutMs` passed; returns its status. */
  waitUntilSettled(timeoutMs: number): Promise<string>;
  /** Reconciliation: an unfinished execution must always have an alarm. */
  ensureAlarm(): Promise<AlarmCheck>;
  /** The earliest pending wake-up on the engine's clock, or null. */
  nextWakeAt(): Promise<number | null>;
}
