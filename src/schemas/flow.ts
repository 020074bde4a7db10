import { z } from "@hono/zod-openapi";
import { flowTemplateIssues } from "../engine/templates";
import { LIMITS } from "../lib/limits";
import { FlowActionSchema, type FlowAction } from "./actions";
import { waitForEventIssues } from "./actions/wait-for-event";
import { PagingQuery } from "./common";
import { FlowConditionSchema, TriggerConditionSchema } from "./conditions";
import { CorrelationKeySchema, FlowControlSchema, flowControlIssues } from "./flow-control";
import { ItemIdSchema, RetryPolicySchema, TemplatedUrl } from "./flow-common";
import { FlowTriggerSchema, TRIGGER_TYPES, type FlowTrigger } from "./triggers";
import { FlowPlanSchema } from "./flow-plan";

/**
 * The AutomationFlow document of the epilot Automation API (with seed 001's loops), plus the engine's
 * extensions: `description`, `retry_policy`, `error_handling`, `concurrency_limit`, `flow_control`,
 * `correlation_key`, three more trigger
 * families and the Coherence action types. One schema validates requests, types the code and
 * generates the OpenAPI document.
 */

export { ACTION_TYPES, SECRET_ACTION_TYPES, type FlowAction } from "./actions";
export { TRIGGER_TYPES, triggerSourceKey, type FlowTrigger } from "./triggers";

export const ActionScheduleSchema = z
  .object({
    id: ItemIdSchema,
    scheduleApiId: z.string().max(200).optional(),
    numberOfUnits: z.number().min(0).max(100_000).optional(),
    timePeriod: z.enum(["minutes", "hours", "days", "weeks", "months"]).optional(),
    timeRelation: z.enum(["after", "before"]).optional(),
    source: z.object({
      id: z.string().min(1).max(200).openapi({ description: "The id of the action or trigger" }),
      origin: z.enum(["trigger", "action", "action_task", "automation"]),
      schema: z.string().max(200).optional(),
      attribute: z.string().max(500).optional(),
    }),
  })
  .openapi("ActionSchedule");

export const AutomationLoopSchema = z
  .object({
    id: ItemIdSchema,
    source_path: z.string().min(1).max(1000).openapi({ example: "submission.steps[0]['Contracts']" }),
    source_type: z.enum(["journey-multi-select", "previous-action-outputs", "entity-relation"]).optional(),
    length: z.number().int().min(0).optional(),
  })
  .openapi("AutomationLoop", { description: "A loop scope: actions naming it run once per item at `source_path`" });

const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export const ErrorHandlingSchema = z
  .strictObject({
    notify_on_failure: z.boolean().optional(),
    notify_url: TemplatedUrl.optional().openapi({ description: "Called with the failed execution's summary" }),
    notify_email: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: "E-mailed the failed execution's summary through the org's e-mail connection" }),
    disable_after_failures: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(5)
      .openapi({ description: "Consecutive failed executions after which the flow disables itself" }),
  })
  .openapi("FlowErrorHandling");

/** The client-writable fields of a flow. */
const flowFields = {
  flow_name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).openapi({ example: "Handle contact form" }),
  description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).optional(),
  enabled: z.boolean().optional().openapi({ description: "Default true on create; a PUT without it keeps the current state" }),
  triggers: z.array(FlowTriggerSchema).min(1).max(LIMITS.MAX_TRIGGERS_PER_FLOW),
  trigger_conditions: z.array(TriggerConditionSchema).max(LIMITS.MAX_CONDITIONS_PER_FLOW).optional(),
  entity_schema: z.string().max(200).optional().openapi({ example: "submission" }),
  conditions: z.array(FlowConditionSchema).max(LIMITS.MAX_CONDITIONS_PER_FLOW).optional(),
  schedules: z.array(ActionScheduleSchema).max(LIMITS.MAX_CONDITIONS_PER_FLOW).optional(),
  loops: z.array(AutomationLoopSchema).max(LIMITS.MAX_LOOPS_PER_FLOW).optional(),
  actions: z.array(FlowActionSchema).max(LIMITS.MAX_ACTIONS_PER_FLOW),
  max_executions: z
    .object({
      count: z.number().int().min(1).optional(),
      window: z.string().regex(ISO_DURATION, "must be an ISO-8601 duration such as PT1M").optional(),
    })
    .optional()
    .openapi({ description: "Hot-flow rate limit: at most `count` executions per `window`" }),
  system_flow: z.boolean().optional(),
  protected: z.boolean().optional(),
  _manifest: z.array(z.string().max(200)).max(100).nullable().optional(),
  retry_policy: RetryPolicySchema.optional(),
  error_handling: ErrorHandlingSchema.optional(),
  concurrency_limit: z.number().int().min(1).max(LIMITS.MAX_FLOW_CONCURRENCY).optional(),
  flow_control: FlowControlSchema.optional(),
  correlation_key: CorrelationKeySchema.optional(),
};

type Issue = { path: (string | number)[]; message: string };

/** Ids must be unique and every reference (condition_id, schedule_id, loop_id) must name an existing item. */
export function flowReferenceIssues(flow: {
  triggers: { id?: string; type: string; configuration?: unknown }[];
  actions: { id?: string; condition_id?: string; schedule_id?: string; loop_id?: string }[];
  conditions?: { id?: string; schedule_id?: string }[];
  schedules?: { id: string }[];
  loops?: { id: string }[];
}): Issue[] {
  const issues: Issue[] = [];
  const unique = (list: string, items: { id?: string }[] | undefined, label: string) => {
    const seen = new Map<string, number>();
    items?.forEach((item, i) => {
      if (item.id === undefined) return;
      const first = seen.get(item.id);
      if (first !== undefined)
        issues.push({ path: [list, i, "id"], message: `Duplicate ${label} id "${item.id}" (also ${list}.${first}.id)` });
      else seen.set(item.id, i);
    });
    return seen;
  };
  unique("triggers", flow.triggers, "trigger");
  unique("actions", flow.actions, "action");
  const conditions = unique("conditions", flow.conditions, "condition");
  const schedules = unique("schedules", flow.schedules, "schedule");
  const loops = unique("loops", flow.loops, "loop");

  const paths = new Map<string, number>();
  flow.triggers.forEach((t, i) => {
    if (t.type !== "webhook") return;
    const path = (t.configuration as { path?: string } | undefined)?.path;
    if (path === undefined) return;
    const first = paths.get(path);
    if (first !== undefined) {
      issues.push({
        path: ["triggers", i, "configuration", "path"],
        message: `Webhook path "${path}" is already used by triggers.${first}`,
      });
    } else paths.set(path, i);
  });

  flow.conditions?.forEach((c, i) => {
    if (c.schedule_id !== undefined && !schedules.has(c.schedule_id)) {
      issues.push({ path: ["conditions", i, "schedule_id"], message: `No schedule with id "${c.schedule_id}" in schedules` });
    }
  });
  flow.actions.forEach((a, i) => {
    if (a.condition_id !== undefined && !conditions.has(a.condition_id)) {
      issues.push({ path: ["actions", i, "condition_id"], message: `No condition with id "${a.condition_id}" in conditions` });
    }
    if (a.schedule_id !== undefined && !schedules.has(a.schedule_id)) {
      issues.push({ path: ["actions", i, "schedule_id"], message: `No schedule with id "${a.schedule_id}" in schedules` });
    }
    if (a.loop_id !== undefined && !loops.has(a.loop_id)) {
      issues.push({ path: ["actions", i, "loop_id"], message: `No loop with id "${a.loop_id}" in loops` });
    }
  });
  return issues;
}

/** A flow as a client writes it (POST / PUT body). Server-set fields sent along are ignored. */
export const AutomationFlowInputSchema = z
  .object(flowFields)
  .superRefine((flow, ctx) => {
    for (const issue of flowReferenceIssues(flow)) ctx.addIssue({ code: "custom", ...issue });
    // Templates are parsed (not rendered) here, so a syntax error is a 400 naming the field, not a failed run later.
    for (const issue of flowTemplateIssues(flow)) ctx.addIssue({ code: "custom", ...issue });
    for (const issue of flowControlIssues(flow)) ctx.addIssue({ code: "custom", ...issue });
    for (const issue of waitForEventIssues(flow.actions)) ctx.addIssue({ code: "custom", ...issue });
  })
  .openapi("AutomationFlowInput", {
    description:
      "An automation flow as written by a client. Server-set fields (id, org_id, created_at, updated_at, created_by, " +
      "last_updated_by, version, runs and the other statistics, disable_details) are ignored when sent. Ids of triggers " +
      "and actions are assigned when missing and kept when given. Secrets (`secret` of webhook triggers and of " +
      "trigger-webhook / call_webhook actions) are write-only: a string sets, `null` removes, omission keeps.",
  });
export type AutomationFlowInput = z.input<typeof AutomationFlowInputSchema>;
export type ParsedFlowInput = z.output<typeof AutomationFlowInputSchema>;

export const DisableDetailsSchema = z
  .object({
    disabled_at: z.string().openapi({ format: "date-time" }),
    disabled_by: z.enum(["system", "user"]),
    blame: z.string().optional().openapi({ description: "Who disabled the flow (user, key or `system`)" }),
    reason: z.string().optional().openapi({ description: "Why the system disabled the flow (circuit breaker)" }),
    last_error: z.string().optional().openapi({ description: "The last error before the circuit breaker opened" }),
    execution_id: z.string().optional().openapi({ description: "The execution whose failure opened the circuit breaker" }),
  })
  .openapi("DisableDetails");
export type DisableDetails = z.infer<typeof DisableDetailsSchema>;

const readOnly = <T extends z.ZodType>(s: T, description?: string) => s.openapi({ readOnly: true, description });

/** A stored flow as the API returns it: the document plus server-set fields and run statistics. */
export const AutomationFlowSchema = z
  .object({
    id: readOnly(z.string(), "ID of the Automation Flow"),
    ...flowFields,
    enabled: z.boolean(),
    org_id: readOnly(z.string()),
    created_at: readOnly(z.string().openapi({ format: "date-time" })),
    updated_at: readOnly(z.string().openapi({ format: "date-time" })),
    created_by: readOnly(z.string(), "User / service who created the flow"),
    last_updated_by: readOnly(z.string(), "User / service who last updated the flow"),
    version: readOnly(z.number().int(), "Starts at 1, incremented by every PUT"),
    runs: readOnly(z.number().int(), "Number of executions that ran"),
    last_run_at: readOnly(z.string().nullable(), "When the last execution finished"),
    success_rate: readOnly(z.number().min(0).max(1).nullable(), "Share of finished executions that succeeded (null before any)"),
    consecutive_failures: readOnly(z.number().int(), "Failed executions since the last success"),
    disable_details: DisableDetailsSchema.optional(),
    plan: FlowPlanSchema.optional().openapi({ readOnly: true }),
  })
  .openapi("AutomationFlow", {
    description:
      "An automation flow. Secrets are never returned: webhook triggers and trigger-webhook / call_webhook actions " +
      "carry `secret_configured: true|false` in place of `secret`.",
  });

/** A flow as stored and returned; trigger and action ids are always set. */
export type AutomationFlow = Omit<z.infer<typeof AutomationFlowSchema>, "triggers" | "actions"> & {
  triggers: FlowTrigger[];
  actions: FlowAction[];
};

export const SearchAutomationsRespSchema = z
  .object({ total: z.number().int(), results: z.array(AutomationFlowSchema) })
  .openapi("SearchAutomationsResp");

const BoolParam = (description: string) => z.enum(["true", "false"]).optional().openapi({ type: "boolean", description });

export const SearchFlowsQuery = PagingQuery.extend({
  schema: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Entity schema (the flow's entity_schema or a trigger's schema)" }),
  trigger_source_id: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Flows with a submission trigger (api/frontend/journey) of this source id" }),
  target_workflow: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Flows with a trigger-workflow action targeting this workflow" }),
  include_flows: BoolParam("Include Workflows V2 automations (flows with a flows_trigger); excluded by default"),
  enabled: BoolParam("Only enabled (true) or disabled (false) flows"),
  trigger_type: z
    .enum(TRIGGER_TYPES as [string, ...string[]])
    .optional()
    .openapi({ description: "Only flows with a trigger of this type" }),
});

export const BatchGetFlowsBody = z
  .object({ ids: z.array(z.string().min(1).max(200)).max(LIMITS.MAX_BATCH_GET) })
  .openapi("BatchGetFlowsRequest");

export const DeleteFlowResponse = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("DeleteFlowResponse");
