/**
 * Types of the execution state machine. The engine is pure: it sees the flow snapshot, the trigger
 * event and what happened so far, and decides what to do next. Times are milliseconds.
 */

export const EXECUTION_STATUSES = [
  "pending",
  "starting",
  "in_progress",
  "paused",
  "success",
  "failed",
  "cancelled",
  "skipped",
  "scheduled",
  "hot",
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(["success", "failed", "cancelled", "skipped", "hot"]);
export const isFinal = (s: ExecutionStatus): boolean => FINAL_STATUSES.has(s);

export const ERROR_CODES = [
  "MAPPING_ERROR",
  "REFRESH_RELATIONS_ERROR",
  "DUPLICATE_ENTITY_ERROR",
  "TRIGGER_WORKFLOW_ERROR",
  "TIMEOUT_ERROR",
  "BAD_CONFIG",
  "INTERNAL_ERROR",
  "TRIGGER_WEBHOOK_ERROR",
  "TEMPLATE_ERROR",
  "INVALID_PAYLOAD",
  "INVALID_SCHEDULE_CONFIG",
  "CUSTOM_ACTION_ERROR",
  "ORDER_CREATION_ERROR",
  "DOCUMENT_GENERATION_ERROR",
  "BULK_EMAIL_ERROR",
  "SHARING_ERROR",
  "CANCEL_FLOW_EXECUTION_ERROR",
  "METER_READING_NOT_FOUND",
  "ENTITY_NOT_FOUND",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorOutput {
  error_code: ErrorCode;
  error_reason: string;
  error_info?: Record<string, unknown>;
}

export const RETRY_STRATEGIES = ["RETRY_AND_RESUME", "RETRY_AND_STOP", "RETRY_ALL_PARENT_CONDITION_ACTIONS"] as const;
export type RetryStrategy = (typeof RETRY_STRATEGIES)[number];

export interface RetryPolicy {
  max_attempts?: number;
  backoff_seconds?: number[];
}

// ---- the flow snapshot, as far as the engine reads it -------------------------------------------

export interface FlowActionDef {
  id: string;
  name?: string;
  type: string;
  config?: Record<string, unknown>;
  allow_failure?: boolean;
  condition_id?: string;
  schedule_id?: string;
  loop_id?: string;
  retry_policy?: RetryPolicy;
}

export interface ScheduleDef {
  id: string;
  numberOfUnits?: number;
  timePeriod?: "minutes" | "hours" | "days" | "weeks" | "months";
  timeRelation?: "after" | "before";
  source: { id: string; origin: "trigger" | "action" | "action_task" | "automation"; schema?: string; attribute?: string };
}

export interface LoopDef {
  id: string;
  source_path: string;
  source_type?: string;
  length?: number;
}

export interface FlowSnapshot {
  id: string;
  flow_name: string;
  version: number;
  actions: FlowActionDef[];
  /** epilot ActionConditions and Coherence simple conditions, as stored on the flow. */
  conditions?: Record<string, unknown>[];
  schedules?: ScheduleDef[];
  loops?: LoopDef[];
  retry_policy?: RetryPolicy;
  error_handling?: { notify_on_failure?: boolean; notify_url?: string; disable_after_failures?: number };
}

// ---- per-action and per-execution state --------------------------------------------------------

export interface AttemptRecord {
  attempt: number;
  iteration?: number;
  started_at: number;
  ended_at?: number;
  /** `interrupted`: the runtime restarted while the attempt was in flight, so its effect is unknown. */
  outcome?: "success" | "failed" | "interrupted" | "paused" | "waiting" | "cancelled";
  error?: ErrorOutput;
}

export interface IterationState {
  index: number;
  execution_status: ExecutionStatus;
  started_at?: number;
  ended_at?: number;
  outputs?: Record<string, unknown>;
  error_output?: ErrorOutput;
}

export interface StatementExplanation {
  field: string;
  operator: string;
  value: unknown;
  actual_value: unknown;
  passed: boolean;
  [k: string]: unknown;
}

export interface ActionState {
  id: string;
  type: string;
  name?: string;
  execution_status: ExecutionStatus;
  started_at?: number;
  updated_at?: number;
  outputs?: Record<string, unknown>;
  error_output?: ErrorOutput;
  /** Attempts made for the current iteration (or the action, if it does not loop). */
  attempts: number;
  /** Every attempt, in order: the run history. */
  attempt_log: AttemptRecord[];
  /** The attempt being performed; `run` identifies the dispatch so a stale result is recognised. */
  in_flight?: { attempt: number; iteration?: number; started_at: number; run: number };
  next_attempt_at?: number;
  /** When a schedule gates the action: its due time, and whether the wait is over. */
  scheduled_for?: number;
  schedule_done?: boolean;
  /** A `delay` action's wake-up time. */
  wait_until?: number;
  iterations?: IterationState[];
  loop_items?: unknown[];
  loop_state?: { current_index: number; total: number };
  reason?: { message: string; payload?: Record<string, unknown> };
  condition_result?: { condition_id: string; passed: boolean; statements: StatementExplanation[] };
  retry_strategy?: RetryStrategy;
  /** Set while the action waits for a resume token. */
  paused_iteration?: number;
}

export interface ExecutionState {
  id: string;
  org_id: string;
  flow: FlowSnapshot;
  status: ExecutionStatus;
  created_at: number;
  updated_at: number;
  started_at?: number;
  finished_at?: number;
  entity_id: string;
  entity: Record<string, unknown> | null;
  trigger_event: Record<string, unknown>;
  workflow_context?: Record<string, unknown>;
  /** Position in a chain of flows triggering flows (0 = started directly). */
  depth: number;
  /** Index of the action being worked on. */
  cursor: number;
  actions: ActionState[];
  /** Flow-level (Coherence) conditions: their evaluation, once done. */
  conditions_evaluated?: { passed: boolean; statements: StatementExplanation[] };
  /** RETRY_AND_STOP: finish after this action instead of continuing. */
  stop_after?: string;
  /** SHA-256 hex of the current resume token's secret part, with the action it resumes. */
  resume?: { action_id: string; token_hash: string; issued_at: number };
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  cancel_reason?: string;
  last_error?: ErrorOutput;
  /** Incremented by each state change; lets summaries be written in order. */
  seq: number;
  /** Counts dispatched action runs; each run carries its number. */
  runs: number;
}

// ---- events (what happened) and commands (what to do) ---------------------------------------------

export type ActionOutcome =
  | { kind: "success"; outputs: Record<string, unknown> }
  | { kind: "failed"; error: ErrorOutput; retry: "never" | "policy" | { after_ms: number } }
  | { kind: "paused"; token_hash: string; outputs?: Record<string, unknown> }
  | { kind: "wait"; until: number }
  | { kind: "cancel_execution"; reason: string };

export type EngineEvent =
  | { type: "started" }
  | { type: "wake" }
  | { type: "action_result"; action_id: string; iteration?: number; attempt: number; run: number; outcome: ActionOutcome }
  | { type: "action_interrupted"; action_id: string; iteration?: number; attempt: number; run: number }
  | { type: "resumed"; action_id: string; payload?: Record<string, unknown> }
  | { type: "cancelled"; reason?: string }
  | { type: "retriggered"; action_id: string; strategy: RetryStrategy; condition_id?: string }
  | { type: "schedule_cancelled"; schedule_id: string };

export interface RunActionCommand {
  type: "run_action";
  action_id: string;
  action_type: string;
  attempt: number;
  iteration?: number;
  run: number;
  /** The action's config with its templates rendered. */
  config: Record<string, unknown>;
  /** Stable across attempts so receivers can drop duplicates. */
  idempotency_key: string;
}

export type Command =
  | RunActionCommand
  /** Wake the execution at this time (the object keeps one alarm for the earliest wake-up). */
  | { type: "wake_at"; at: number }
  /** The status changed: write the D1 summary row. */
  | { type: "write_summary" }
  /** The execution reached a final status. */
  | { type: "finished"; status: ExecutionStatus };

export interface AdvanceResult {
  state: ExecutionState;
  commands: Command[];
}
