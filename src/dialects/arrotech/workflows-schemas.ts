import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { ExecutionStatusSchema, RunStatusSchema } from "../../schemas/executions";
import { ItemIdSchema } from "../../schemas/flow-common";
import { TRIGGER_TYPES } from "../../schemas/flow";

/**
 * Arrotech Hub's workflows (seed 002) under `/v1/workflows`. The document names the fields (`name`, `description`,
 * `status`, `trigger_type`, `trigger_config`, `variables`, `steps`, `workflow_metadata`, `input_data`,
 * `workflow_name`) but not a step's shape: a step's fields (`tool`, `params`, `connection_id`, …) are ours.
 */

export const ARROTECH_TAG = "arrotech";
/** How a 404 names the resource. */
export const NOUN = "Workflow";

export const WORKFLOW_STATUSES = ["active", "paused", "draft"] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

const Json = z.record(z.string().max(500), z.unknown());

export const WorkflowStatusSchema = z.enum(WORKFLOW_STATUSES).openapi({
  description:
    "`active`: runs from its trigger and on execute. `paused`: disabled. `draft`: disabled and marked as a draft " +
    "(never runs from its trigger; execute refuses it like a paused workflow until it is set active)",
});

export const StepSchema = z
  .strictObject({
    id: ItemIdSchema.optional().openapi({
      description: "The step's id (the flow action's id); assigned when missing, kept on updates",
    }),
    name: z.string().max(LIMITS.MAX_NAME_LENGTH).optional(),
    tool: z
      .string()
      .min(1)
      .max(LIMITS.MAX_TOOL_NAME_LENGTH)
      .openapi({
        example: "slack_post_message",
        description:
          "A provider tool of the catalog (`<platform>_<action>`, GET /v1/tools?include_all=true) or an engine action type " +
          "(`call_webhook`, `create_record`, `update_record`, `send_email`, `send_notification`, `delay`, …)",
      }),
    params: Json.default({}).openapi({
      description:
        "The tool's arguments (a provider tool) or the action's config (an action type); string values may be Liquid " +
        "templates such as `{{ variables.channel }}`",
    }),
    connection_id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Provider tools only: the connection to use (default: the platform's only connection)" }),
    continue_on_error: z.boolean().optional().openapi({ description: "Go on with the next step when this one fails" }),
  })
  .openapi("ArrotechWorkflowStep");

const TriggerTypeSchema = z.enum(TRIGGER_TYPES as [string, ...string[]]).openapi({
  description:
    "What starts the workflow besides execute: `manual` (nothing else), `schedule` (trigger_config `{cron, timezone}`), " +
    "`webhook` (`{path, …}`), `record.created` (`{module}`), `field.changed` (`{module, field}`), `event` " +
    "(`{event_name}`) or any other trigger type of the engine, with its configuration as trigger_config",
});

const fields = {
  name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH),
  description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).nullable(),
  status: WorkflowStatusSchema,
  trigger_type: TriggerTypeSchema,
  trigger_config: Json,
  variables: Json.openapi({ description: "Global variables: defaults of `{{ variables.x }}` for runs started by execute" }),
  steps: z.array(StepSchema).max(LIMITS.MAX_ACTIONS_PER_FLOW).openapi({ description: "The steps, run in this order" }),
  workflow_metadata: Json.openapi({ description: "Free-form metadata for categorization or UI rendering" }),
};

export const CreateWorkflowSchema = z
  .strictObject({
    name: fields.name,
    description: fields.description.optional(),
    status: fields.status.default("active"),
    trigger_type: fields.trigger_type.default("manual"),
    trigger_config: fields.trigger_config.default({}),
    variables: fields.variables.default({}),
    steps: fields.steps,
    workflow_metadata: fields.workflow_metadata.default({}),
  })
  .openapi("ArrotechCreateWorkflow", {
    description: "A workflow from explicit fields (status defaults to active). Generation from a description is the LLM API's.",
  });

export const UpdateWorkflowSchema = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    status: fields.status.optional(),
    trigger_type: fields.trigger_type.optional(),
    trigger_config: fields.trigger_config.optional(),
    variables: fields.variables.optional(),
    steps: fields.steps.optional(),
    workflow_metadata: fields.workflow_metadata.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "Name at least one field to change" })
  .openapi("ArrotechUpdateWorkflow", { description: "Fields left out keep their value" });

export const FromStepsSchema = z
  .strictObject({
    workflow_name: fields.name,
    description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH),
    steps: fields.steps.min(1),
    trigger_type: fields.trigger_type.default("manual"),
    trigger_config: fields.trigger_config.default({}),
    variables: fields.variables.default({}),
    workflow_metadata: fields.workflow_metadata.default({}),
    status: fields.status.default("draft").openapi({ description: "Default draft: a saved extraction is reviewed first" }),
  })
  .openapi("ArrotechWorkflowFromSteps");

export const WorkflowSchema = z
  .object({
    id: z.string().openapi({ description: "The workflow's id: the engine's flow id (a UUID, not an integer)" }),
    ...fields,
    description: fields.description,
    version: z.number().int(),
    is_template: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    last_run_at: z.string().nullable(),
    run_count: z.number().int(),
    x_native: Json.optional().openapi({
      description: "The whole flow as the engine stores it, when it has parts the workflow shape cannot hold",
    }),
    x_untranslated: z
      .array(z.string())
      .optional()
      .openapi({ description: "Which parts of the flow the workflow shape cannot hold (with x_native)" }),
  })
  .openapi("ArrotechWorkflow");

export const WorkflowListSchema = z
  .object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), results: z.array(WorkflowSchema) })
  .openapi("ArrotechWorkflowList");

export const WorkflowListQuery = z.object({
  status: WorkflowStatusSchema.optional(),
  trigger_type: TriggerTypeSchema.optional(),
  search: z.string().min(1).max(200).optional().openapi({ description: "Words in the name or description" }),
  limit: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
});

export const DeletedWorkflowSchema = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("ArrotechDeletedWorkflow");

export const ExecuteSchema = z
  .strictObject({
    input_data: Json.default({}).openapi({
      description: "Variables of this run, over the workflow's own: templates see them as `{{ variables.x }}`",
    }),
  })
  .openapi("ArrotechExecuteWorkflow");

const StepResultSchema = z.object({
  step_id: z.string(),
  tool: z.string(),
  status: ExecutionStatusSchema,
  error: z.unknown(),
  duration_ms: z.number().nullable(),
  attempts: z.number().int(),
  output: z.unknown().openapi({ description: "The step's last response (vendor data or HTTP response)" }),
});

const executionFields = {
  id: z.string(),
  workflow_id: z.string(),
  status: RunStatusSchema,
  execution_status: ExecutionStatusSchema,
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  steps_total: z.number().int(),
  steps_executed: z.number().int(),
  steps_failed: z.number().int(),
  steps_skipped: z.number().int(),
  error: z.unknown(),
};

export const ExecutionSummarySchema = z.object(executionFields).openapi("ArrotechWorkflowExecutionSummary");
export const ExecutionSchema = z
  .object({ ...executionFields, input_data: Json, step_results: z.array(StepResultSchema), truncated: z.boolean() })
  .openapi("ArrotechWorkflowExecution");

export const ExecutionListSchema = z
  .object({
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    results: z.array(ExecutionSummarySchema),
  })
  .openapi("ArrotechWorkflowExecutionList");

export const ExecutionListQuery = z.object({
  status: RunStatusSchema.optional(),
  since: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
});
