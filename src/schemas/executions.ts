import { z } from "@hono/zod-openapi";
import { APPROVAL_DECISIONS, ERROR_CODES, EXECUTION_STATUSES, RETRY_STRATEGIES } from "../engine/execution/types";
import { LIMITS } from "../lib/limits";

export const ExecutionStatusSchema = z.enum(EXECUTION_STATUSES).openapi("ExecutionStatus");

export const ErrorOutputSchema = z
  .object({ error_code: z.enum(ERROR_CODES), error_reason: z.string(), error_info: z.record(z.string(), z.unknown()).optional() })
  .openapi("ErrorOutput");

export const ExecutionChainSchema = z
  .object({
    parent_execution_id: z.string().max(200).optional(),
    parent_task_id: z.string().max(200).optional(),
    depth: z.number().int().min(0).max(1000).optional(),
  })
  .openapi("ExecutionChain");

export const WorkflowExecutionContextSchema = z
  .object({
    workflow_exec_id: z.string().max(200),
    workflow_exec_task_id: z.string().max(200).optional(),
    workflow_role: z.enum(["trigger_workflow", "run_task_automation"]),
    _execution_chain: ExecutionChainSchema.optional(),
    entity_contexts: z
      .array(
        z.object({ entity_id: z.string().optional(), entity_schema: z.string().optional(), is_primary: z.boolean().optional() }),
      )
      .max(100)
      .optional(),
  })
  .openapi("WorkflowExecutionContext");

export const StartExecutionRequestSchema = z
  .object({
    flow_id: z.string().min(1).max(200),
    entity_id: z.string().min(1).max(200),
    workflow_context: WorkflowExecutionContextSchema.optional(),
    flow_execution_id: z.string().max(200).optional().openapi({ deprecated: true }),
    flow_automation_task_id: z.string().max(200).optional().openapi({ deprecated: true }),
  })
  .openapi("StartExecutionRequest");

/** How flow control admitted the execution (docs/flow-control.md). */
export const AdmissionSchema = z
  .object({
    decision: z.enum(["admitted", "waited", "skipped", "debounced", "batched"]),
    reason: z.string(),
    key: z.string().nullable(),
    waited_ms: z.number(),
    keys: z.record(z.string(), z.string()).optional(),
  })
  .openapi("AdmissionRecord");

/** An action of an execution: the flow's action plus its execution state. */
export const ExecutionActionSchema = z
  .object({
    id: z.string(),
    flow_action_id: z.string().optional(),
    name: z.string().optional(),
    type: z.string(),
    config: z.record(z.string(), z.unknown()).optional(),
    execution_status: ExecutionStatusSchema,
    started_at: z.string().optional(),
    updated_at: z.string().optional(),
    outputs: z.record(z.string(), z.unknown()).optional(),
    error_output: ErrorOutputSchema.optional(),
    retry_strategy: z.enum(RETRY_STRATEGIES).optional(),
    iterations: z.array(z.record(z.string(), z.unknown())).optional(),
    loop_state: z.object({ current_index: z.number(), total: z.number() }).optional(),
    attempts: z.array(z.record(z.string(), z.unknown())).optional(),
    waiting_for_approval: z
      .object({ tool: z.string(), tool_call_id: z.string(), arguments: z.unknown(), requested_at: z.string().optional() })
      .optional()
      .openapi({
        description:
          "An ai_agent's write tool call waiting for a person: POST /v1/automation/executions/{execution_id}/{action_id}/approval decides",
      }),
  })
  .passthrough()
  .openapi("ExecutionAction");

const LlmUsageSchema = z
  .object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() })
  .openapi("LlmUsage");

export const AutomationExecutionSchema = z
  .object({
    id: z.string(),
    execution_status: ExecutionStatusSchema,
    status: ExecutionStatusSchema.openapi({ description: "Same as execution_status (the epilot document requires `status`)" }),
    entity_id: z.string(),
    entity_snapshot: z.record(z.string(), z.unknown()).optional(),
    org_id: z.string(),
    flow_id: z.string(),
    flow_name: z.string().optional(),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
    current_action_id: z.string().optional(),
    conditions: z.array(z.record(z.string(), z.unknown())).optional(),
    schedules: z.array(z.record(z.string(), z.unknown())).optional(),
    loops: z.array(z.record(z.string(), z.unknown())).optional(),
    actions: z.array(ExecutionActionSchema),
    resume_token: z.string().optional(),
    trigger_event: z.record(z.string(), z.unknown()).optional(),
    trigger_events: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .openapi({ description: "The events of a batch (or a debounce in batch mode), oldest first; trigger_event is the last" }),
    correlation_key: z.string().optional().openapi({ description: "The flow's correlation_key, rendered at the start" }),
    parent_execution_id: z.string().optional().openapi({ description: "The execution whose trigger-workflow started this one" }),
    admission: AdmissionSchema.optional(),
    workflow_context: z.record(z.string(), z.unknown()).optional(),
    version: z.number().optional(),
    llm_usage: LlmUsageSchema.optional().openapi({ description: "Model tokens of the execution's AI steps, totalled" }),
  })
  .passthrough()
  .openapi("AutomationExecution");

export const GetExecutionsQuery = z.object({
  entity_id: z.string().max(200).optional(),
  flow_id: z.string().max(200).optional(),
  correlation_key: z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: "Only executions whose correlation_key (the flow's template, rendered at the start) is this" }),
  size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  from: z.coerce.number().int().min(0).max(100_000).optional(),
  include_flows: z.enum(["true", "false"]).optional(),
});

export const GetExecutionsRespSchema = z
  .object({ total: z.number(), results: z.array(AutomationExecutionSchema) })
  .openapi("GetExecutionsResp");

export const RetryReqSchema = z
  .object({
    condition_id: z.string().max(200).optional(),
    retry_strategy: z.enum(RETRY_STRATEGIES).optional(),
    reuse_outputs: z.array(z.string().min(1).max(200)).max(LIMITS.MAX_ACTIONS_PER_FLOW).optional().openapi({
      description:
        "Actions not sent again: their recorded outputs feed the later steps (each must have succeeded). docs/reruns.md",
    }),
  })
  .openapi("RetryReq");

export const ApprovalReqSchema = z
  .object({
    decision: z
      .enum(APPROVAL_DECISIONS)
      .openapi({ description: "`approve` runs the tool call; `reject` tells the model it was refused" }),
    comment: z.string().max(2000).optional().openapi({ description: "Shown to the model with a rejection, kept in the step" }),
  })
  .strict()
  .openapi("ApprovalReq");

export const ResumeReqSchema = z
  .object({ resume_token: z.string().min(1).max(500) })
  .strict()
  .openapi("ResumeReq");

/** An action as the public resume answer shows it: what it is and where it stands, nothing of its config or outputs. */
export const ResumedActionSchema = z
  .object({ id: z.string(), type: z.string(), name: z.string().optional(), execution_status: ExecutionStatusSchema })
  .openapi("ResumedAction");

/**
 * The execution as the public resume answer shows it: only the fields epilot's `AutomationExecution` requires. The
 * caller holds a resume token, often a third party; configs, outputs, the record and the trigger event are not theirs.
 */
export const ResumedExecutionSchema = z
  .object({
    id: z.string(),
    status: ExecutionStatusSchema,
    entity_id: z.string(),
    org_id: z.string(),
    flow_id: z.string(),
    actions: z.array(ResumedActionSchema),
  })
  .openapi("ResumedExecution");

export const ResumeRespSchema = z
  .object({ execution: ResumedExecutionSchema, resumedAction: ResumedActionSchema })
  .openapi("ResumeResp");

export const ActionScheduleRespSchema = z.record(z.string(), z.unknown()).openapi("ActionScheduleResp");

// ---- normalized runs (TrustPager / Coherence) -------------------------------------------------

export const RunStatusSchema = z.enum(["completed", "failed", "running", "skipped"]);

export const ActionResultSchema = z
  .object({
    action_id: z.string(),
    action_type: z.string(),
    status: ExecutionStatusSchema,
    request: z.unknown(),
    response: z.unknown(),
    error: z.unknown(),
    duration_ms: z.number().nullable(),
    attempts: z.number(),
    truncated: z.boolean(),
  })
  .openapi("ActionResult");

export const RunSchema = z
  .object({
    run_id: z.string(),
    flow_id: z.string(),
    status: RunStatusSchema,
    execution_status: ExecutionStatusSchema,
    started_at: z.string().optional(),
    finished_at: z.string().nullable(),
    actions_total: z.number(),
    actions_executed: z.number(),
    actions_failed: z.number(),
    actions_skipped: z.number(),
    action_results: z.array(ActionResultSchema).optional(),
    truncated: z.boolean().optional(),
    error: z.unknown().optional(),
  })
  .openapi("Run");

export const RunListSchema = z.object({ data: z.array(RunSchema), total: z.number() }).openapi("RunList");

export const RunsQuery = z.object({
  status: RunStatusSchema.optional(),
  since: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
});
