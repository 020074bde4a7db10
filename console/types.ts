/** The parts of the API's documents the console reads (the OpenAPI document at /openapi.json has them all). */

// The engine's own lists (esbuild bundles them into the console), so the two cannot drift apart.
import { FINAL_JOB_STATUSES } from "../src/engine/bulk-job";
import { FINAL_STATUSES, RETRIABLE_STATUSES } from "../src/engine/execution/types";
export { EXECUTION_STATUSES, RETRY_STRATEGIES } from "../src/engine/execution/types";
import type { FlowPlan } from "../src/engine/plan/plan";

/** The API sends statuses as plain strings: these ask the engine's sets about any string. */
const member =
  (set: ReadonlySet<string>) =>
  (status: string): boolean =>
    set.has(status);
export const isFinal = member(FINAL_STATUSES);
/** Whether the engine lets an action in this status be retriggered (engine/execution/apply.ts retriggerRefusal). */
export const isRetriable = member(RETRIABLE_STATUSES);
export const isFinalJob = member(FINAL_JOB_STATUSES);

export interface ErrorOutput {
  error_code: string;
  error_reason: string;
  error_info?: Record<string, unknown>;
}

export interface FlowTrigger {
  id?: string;
  type: string;
  configuration?: Record<string, unknown>;
}

export interface FlowAction {
  id?: string;
  name?: string;
  type: string;
  condition_id?: string;
  schedule_id?: string;
  loop_id?: string;
  allow_failure?: boolean;
  config?: Record<string, unknown>;
}

export interface FlowCondition {
  id?: string;
  schedule_id?: string;
  evaluation_order?: string;
  statements?: { source?: { attribute?: string; schema?: string }; operation: string; values?: string[] }[];
  field?: string;
  operator?: string;
  value?: unknown;
}

export interface FlowSchedule {
  id: string;
  numberOfUnits?: number;
  timePeriod?: string;
  timeRelation?: string;
  source: { id: string; origin: string; attribute?: string };
}

export interface FlowLoop {
  id: string;
  source_path: string;
  source_type?: string;
}

export interface TriggerCondition {
  source: string;
  comparison: string;
  value?: unknown;
}

export interface Flow {
  id: string;
  flow_name: string;
  description?: string;
  enabled: boolean;
  triggers: FlowTrigger[];
  trigger_conditions?: TriggerCondition[];
  conditions?: FlowCondition[];
  schedules?: FlowSchedule[];
  loops?: FlowLoop[];
  actions: FlowAction[];
  runs: number;
  last_run_at: string | null;
  success_rate: number | null;
  consecutive_failures: number;
  updated_at: string;
  disable_details?: { disabled_by: string; reason?: string; last_error?: string; disabled_at: string };
  concurrency_limit?: number;
  flow_control?: Record<string, unknown>;
  correlation_key?: string;
  /** What the flow can cost in the worst case (engine/plan/plan.ts). */
  plan?: FlowPlan;
}

/** GET /flows/{flow_id}/queue (docs/flow-control.md). */
export interface FlowQueue {
  flow_id: string;
  running: number;
  waiting: number;
  throttled: number;
  oldest_waiting_age_ms: number | null;
  next_throttle_slot_at: string | null;
  keys: { bound: string; key: string; running: number; waiting: number; oldest_waiting_age_ms: number | null }[];
  throttle?: { limit: number; period: string; burst: number; keys: { key: string; next_slot_at: string | null }[] };
  collecting: { kind: string; key: string; events: number; state: string; opened_at: string | null; due_at: string | null }[];
}

export interface FlowList {
  total: number;
  results: Flow[];
}

export interface Attempt {
  attempt: number;
  iteration?: number;
  started_at?: string;
  ended_at?: string;
  outcome: string;
  error?: unknown;
}

export interface Iteration {
  index: number;
  execution_status: string;
  started_at?: string;
  ended_at?: string;
  outputs?: Record<string, unknown>;
  error_output?: ErrorOutput;
}

export interface ExecutionAction {
  id: string;
  name?: string;
  type: string;
  execution_status: string;
  started_at?: string;
  updated_at?: string;
  outputs?: Record<string, unknown>;
  error_output?: ErrorOutput;
  retry_strategy?: string;
  reason?: string;
  condition_id?: string;
  schedule_id?: string;
  loop_id?: string;
  iterations?: Iteration[];
  iterations_total?: number;
  loop_state?: { current_index: number; total: number };
  attempts?: Attempt[];
  attempts_total?: number;
  scheduled_for?: string;
  next_attempt_at?: string;
  config?: Record<string, unknown>;
  /** An ai_agent's write tool call waiting for a person (POST …/{action_id}/approval decides). */
  waiting_for_approval?: { tool: string; tool_call_id: string; arguments: unknown; requested_at?: string };
}

export interface LlmUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface Execution {
  id: string;
  execution_status: string;
  entity_id: string;
  flow_id: string;
  flow_name?: string;
  created_at?: string;
  updated_at?: string;
  finished_at?: string;
  current_action_id?: string;
  actions: ExecutionAction[];
  schedules?: FlowSchedule[];
  resume_token?: string;
  trigger_event?: Record<string, unknown>;
  error_output?: ErrorOutput;
  cancel_reason?: string;
  /** Model tokens of the run's AI steps. */
  llm_usage?: LlmUsage;
}

export interface ExecutionList {
  total: number;
  results: Execution[];
}

export interface ActionResult {
  action_id: string;
  action_type: string;
  status: string;
  request: unknown;
  response: unknown;
  error: unknown;
  duration_ms: number | null;
  attempts: number;
  truncated: boolean;
}

export interface Run {
  run_id: string;
  flow_id: string;
  status: string;
  execution_status: string;
  started_at?: string;
  finished_at: string | null;
  action_results?: ActionResult[];
}

export interface DryRun {
  would_execute: boolean;
  conditions_passed: boolean;
  status: string;
  complete: boolean;
  finishes_at?: string;
  actions_preview: Record<string, unknown>[];
}

export interface BulkJob {
  job_id: string;
  flow_id: string;
  status: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  approved_at?: string;
  finished_at?: string;
  error?: string;
  entity_query: { type: string };
  counts: Record<string, number> & { total: number; dispatched: number; finished: number; waiting: number };
  execution_summary: { entity_id: string; execution_id?: string; execution_status: string; timestamp?: string; error?: string }[];
  execution_summary_paging: { from: number; size: number; next_from: number | null };
}
