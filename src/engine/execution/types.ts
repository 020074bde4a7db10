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
/** Action statuses a retrigger may run again at any time: a failed action, or one stuck before it finished (any other, once the execution ended). */
export const RETRIABLE_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  "failed",
  "in_progress",
  "starting",
  "paused",
  "scheduled",
  "pending",
]);

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
  /** An AI step's answer did not match its output_schema after the bounded repairs. */
  "INVALID_OUTPUT",
  /** An AI step's token budget (its own max_total_tokens, or the organization's daily budget) is spent. */
  "BUDGET_EXCEEDED",
  /** A model call failed (provider error, timeout, refused endpoint). */
  "LLM_ERROR",
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
  error_handling?: { notify_on_failure?: boolean; notify_url?: string; notify_email?: string; disable_after_failures?: number };
  /** The flow's hard bound on executions running at once (services/admission.ts holds and frees the slots). */
  concurrency_limit?: number;
  /** The execution holds a row of the admission queue until it is final (flow control; services/admission-queue.ts). */
  queued?: boolean;
}

// ---- per-action and per-execution state --------------------------------------------------------

/** What an attempt came to; `interrupted`: the runtime restarted while it was in flight, so its effect is unknown. */
export type AttemptOutcome = "success" | "failed" | "interrupted" | "paused" | "waiting" | "cancelled";

/** One loop iteration's record, stored as a row of its own (command `store_iteration`), never in the state value. */
export interface IterationRecord {
  index: number;
  execution_status: ExecutionStatus;
  started_at?: number;
  ended_at?: number;
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
  /** Outputs live in a row of their own (command `store_output`); this says whether there are any, and whether they were cut. */
  has_outputs?: boolean;
  outputs_truncated?: boolean;
  error_output?: ErrorOutput;
  /** Attempts made for the current iteration (or the action, if it does not loop). */
  attempts: number;
  /** Attempts made in all, every iteration included (the detail of each is a row of the attempts table). */
  attempts_total: number;
  /** The attempt being performed; `run` identifies the dispatch so a stale result is recognised. */
  in_flight?: { attempt: number; number?: number; iteration?: number; started_at: number; run: number };
  next_attempt_at?: number;
  /** When a schedule gates the action: its due time, and whether the wait is over. */
  scheduled_for?: number;
  schedule_done?: boolean;
  /** A `delay` action's wake-up time. */
  wait_until?: number;
  /** A looped action's position; its items and iterations are rows of their own. */
  loop_state?: { current_index: number; total: number; failed: number; succeeded: number; first_error?: ErrorOutput };
  reason?: { message: string; payload?: Record<string, unknown> };
  condition_result?: { condition_id: string; passed: boolean; statements: StatementExplanation[] };
  retry_strategy?: RetryStrategy;
  /** Set while the action waits for a resume token. */
  paused_iteration?: number;
  /**
   * Attempt numbers a looped action used before a rerun reset it: its iterations' attempts are numbered on
   * from here, so a rerun never overwrites an earlier attempt's record (the ledger keeps every one).
   */
  attempt_base?: number;
  /**
   * A multi-step action (ai_agent): the steps it has finished. Each step is one run (one attempt row); what the
   * action carries from step to step is its progress, a row of its own (command `store_progress`).
   */
  step?: number;
  /** A tool call waiting for a person's decision (ai_agent approvals), then the decision until the next step takes it. */
  approval?: ApprovalState;
  /** A `wait_for_event` action's wait (engine/execution/event-wait.ts); the events it matched are its outputs. */
  event_wait?: EventWaitState;
}

/** One event a wait_for_event action waits for, as rendered when the wait began. */
export interface WaitSpecState {
  event: string;
  /** The event matches when its value at `event_path`, as text, equals `value`. */
  correlate?: { event_path: string; value: string };
  /** Simple conditions over the event (fields are paths into it); all must hold. */
  if?: Record<string, unknown>[];
}

export interface EventWaitState {
  specs: WaitSpecState[];
  mode: "any" | "all";
  /** The config named one event (`event`): the output is `{event}`; with `events`, `{events: [...]}`. */
  single: boolean;
  /** Events accepted from this time on (the wait's start minus its lookback), ms. */
  since: number;
  /** When the wait times out, ms. */
  until: number;
  on_timeout: "continue" | "fail";
  /** Whether the wait is in the D1 index (store/event-waits.ts) and its lookback was read. */
  registered: boolean;
  /** Indices of the specs matched so far (mode `all`); their events are in the action's outputs. */
  matched: number[];
}

/** How a start was admitted (services/admission.ts; docs/flow-control.md), kept on the execution. */
export interface AdmissionRecord {
  /** `admitted` at once; `waited` for a slot, a throttle or its priority; `skipped` by rate_limit or singleton; or started by a collected group. */
  decision: "admitted" | "waited" | "skipped" | "debounced" | "batched";
  reason: string;
  /** The key of the rule that decided (null: no keyed rule). */
  key: string | null;
  /** From the start's request (a group's first event) to its execution's creation. */
  waited_ms: number;
  /** Every rule's rendered key. */
  keys?: Record<string, string>;
}

export const APPROVAL_DECISIONS = ["approve", "reject"] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** A tool call of a multi-step action that a person must approve before it runs. */
export interface ApprovalState {
  tool: string;
  tool_call_id: string;
  requested_at: number;
  decision?: ApprovalDecision;
  comment?: string;
  decided_by?: string;
  decided_at?: number;
}

/** Version of the ExecutionState layout; storage written in an older layout is upcast on load (upcast.ts). */
export const STATE_VERSION = 2;

export interface ExecutionState {
  /** Layout version (STATE_VERSION). */
  v: number;
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
  /** SHA-256 hex of the current resume token, with the action it resumes (the token itself is never in the state). */
  resume?: { action_id: string; token_hash: string; issued_at: number };
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  /** The events of a batch (or of a debounce in `batch` mode), oldest first; `trigger_event` is the last. */
  trigger_events?: Record<string, unknown>[];
  /** The flow's `correlation_key` as rendered at the start (or a trigger-workflow parent's). */
  correlation_key?: string;
  admission?: AdmissionRecord;
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
  | { kind: "wait_event"; wait: Omit<EventWaitState, "registered" | "matched"> }
  | { kind: "cancel_execution"; reason: string }
  /**
   * One step of a multi-step action is done: `progress` is stored and the action runs again (a fresh retry budget
   * per step). With `approval`, the action first pauses until a person decides on that tool call.
   */
  | {
      kind: "step";
      progress: unknown;
      outputs?: Record<string, unknown>;
      approval?: { tool: string; tool_call_id: string };
    };

export type EngineEvent =
  /** The execution was created (first entry of the log: the creation input, so a log replays from nothing). */
  | { type: "created"; input: NewExecutionInput }
  /** Version-1 logs begin with `started`; it is still understood (a `wake` of a pending execution starts it too). */
  | { type: "started" }
  | { type: "wake" }
  | { type: "action_result"; action_id: string; iteration?: number; attempt: number; run: number; outcome: ActionOutcome }
  | { type: "action_interrupted"; action_id: string; iteration?: number; attempt: number; run: number }
  | { type: "resumed"; action_id: string; payload?: Record<string, unknown> }
  | { type: "cancelled"; reason?: string }
  /** A rerun from `action_id`; `reuse_outputs` names actions kept as they are (their recorded outputs feed later steps). */
  | {
      type: "retriggered";
      action_id: string;
      strategy: RetryStrategy;
      condition_id?: string;
      reuse_outputs?: string[];
      /** Names a rerun asked for once (a bulk rerun's item): the object applies a key it already logged only once. */
      rerun_key?: string;
    }
  | { type: "schedule_cancelled"; schedule_id: string }
  /** A wait_for_event wait is in the index; `matches` are the earlier events its lookback found. */
  | { type: "wait_registered"; action_id: string; matches: { spec: number; event: Record<string, unknown> }[] }
  /** An event delivered to a waiting action (the index matched it; the engine checks it again). */
  | { type: "event_received"; action_id: string; spec: number; event: Record<string, unknown> }
  /** A person decided on the tool call an action waits for (POST …/executions/{id}/{action_id}/approval). */
  | { type: "approval_decided"; action_id: string; decision: ApprovalDecision; comment?: string; by?: string };

/** One entry of an execution's append-only event log: the event, its position and when it was applied (ms). */
export interface LoggedEvent {
  seq: number;
  at: number;
  type: string;
  data: EngineEvent;
}

/** What an execution is created from (create.ts); kept as the first event of its log. */
export interface NewExecutionInput {
  id: string;
  org_id: string;
  flow: FlowSnapshot;
  entity_id: string;
  entity: Record<string, unknown> | null;
  trigger_event: Record<string, unknown>;
  workflow_context?: Record<string, unknown>;
  depth?: number;
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  /** Set when the flow is hot (engine/hot-flow.ts): the execution is created final, `hot`, and runs nothing. */
  hot?: { message: string; payload?: Record<string, unknown> };
  /** Set when flow control skipped the start (rate_limit, singleton): created final, `skipped`, runs nothing. */
  skipped?: { message: string; payload?: Record<string, unknown> };
  trigger_events?: Record<string, unknown>[];
  correlation_key?: string;
  admission?: AdmissionRecord;
}

export interface RunActionCommand {
  type: "run_action";
  action_id: string;
  action_type: string;
  attempt: number;
  /** The attempt's number in the run history (the attempts table); absent in commands from before it existed. */
  number?: number;
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
  /** The execution entered a final status: count it, arm its retention, release what it holds. */
  | { type: "finished"; status: ExecutionStatus }
  /** The execution left a final status (a retrigger): its retention timer and pending finish bookkeeping go. */
  | { type: "clear_retention" }
  /** Store an action's outputs (already capped), replacing earlier ones; null deletes them (a retrigger). */
  | { type: "store_output"; action_id: string; outputs: Record<string, unknown> | null; truncated: boolean }
  /** Store a loop's items (each item a row) before its first iteration; an empty list deletes them. */
  | { type: "store_loop_items"; action_id: string; items: unknown[] }
  /** Store (upsert) one loop iteration's record and, when given, its outputs (already capped). */
  | {
      type: "store_iteration";
      action_id: string;
      iteration: IterationRecord;
      outputs?: Record<string, unknown> | null;
      truncated?: boolean;
    }
  /** Put a wait_for_event wait in the index and read its lookback (the object answers with `wait_registered`). */
  | { type: "register_wait"; action_id: string; wait: EventWaitState }
  /** Take an action's wait out of the index (it matched, timed out, or the execution was cancelled). */
  | { type: "clear_wait"; action_id: string }
  /** Store (replace) a multi-step action's progress; null deletes it (the action ended, or a retrigger). */
  | { type: "store_progress"; action_id: string; progress: unknown }
  /** Delete every iteration row of an action (a retrigger starts the loop again). */
  | { type: "clear_iterations"; action_id: string }
  /** Close an attempt the engine ended without a result (cancel, interruption, retrigger). */
  | {
      type: "close_attempt";
      action_id: string;
      iteration?: number;
      attempt: number;
      started_at: number;
      outcome: AttemptOutcome;
      ended_at: number;
      error?: ErrorOutput;
    };

/**
 * Read-only access to what is kept outside the state value: outputs of actions and iterations, and
 * loop items. The object reads them from its storage (lazily); a replay keeps them in memory.
 */
export interface ExecutionData {
  output(actionId: string): Record<string, unknown> | undefined;
  loopItem(actionId: string, index: number): unknown;
  /** The outputs of every iteration of a looped action, in order (null where an iteration has none). */
  iterationOutputs(actionId: string): (Record<string, unknown> | null)[];
}

export interface AdvanceResult {
  state: ExecutionState;
  commands: Command[];
}
