import { z } from "@hono/zod-openapi";
import { CATCH_UP_POLICIES } from "../../schemas/triggers";
import { LIMITS } from "../../lib/limits";
import { cronProblems } from "../../schemas/triggers";

/**
 * Arrotech Hub's agents (seed 002, `agents` part) under `/v1/agents` and `/v1/agent-templates`. The document
 * names `workflow_id`, `agent_config`, `schedule_config` (`interval` seconds or `cron`), `agent_id` and the status
 * figures; `timezone`, `catch_up`, the analytics and template shapes are ours.
 */

export const AGENTS_TAG = "arrotech";

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).length;
const boundedObject = (what: string) =>
  z
    .record(z.string().max(200), z.unknown())
    .refine((v) => bytes(v) <= LIMITS.MAX_AGENT_CONFIG_BYTES, `${what} may be at most ${LIMITS.MAX_AGENT_CONFIG_BYTES} bytes`);

/** Keys of agent_config the engine reads itself (docs/ai.md), with the type each must have. */
const TYPED_KEYS: Record<string, "string" | "strings"> = {
  instructions: "string",
  connection_id: "string",
  model: "string",
  tools: "strings",
  slack_connection_id: "string",
  slack_channels: "strings",
};

export const AgentConfigSchema = boundedObject("agent_config")
  .superRefine((cfg, ctx) => {
    for (const [key, kind] of Object.entries(TYPED_KEYS)) {
      const v = cfg[key];
      if (v === undefined) continue;
      const ok =
        kind === "string"
          ? typeof v === "string" && v.length > 0
          : Array.isArray(v) && v.length <= LIMITS.AI_AGENT_MAX_TOOLS && v.every((x) => typeof x === "string" && x.length > 0);
      if (!ok)
        ctx.addIssue({
          code: "custom",
          path: [key],
          message:
            kind === "string" ? "must be a non-empty string" : `must be a list of at most ${LIMITS.AI_AGENT_MAX_TOOLS} names`,
        });
    }
  })
  .openapi({
    description:
      "Instructions and parameters of the agent, passed to every run as variables (`{{ variables.instructions }}`). " +
      "`instructions`, `connection_id`, `model` and `tools` are also what the workflow's AI steps use when they leave them " +
      "unset; `slack_connection_id` and `slack_channels` shape its Slack request URL. " +
      `At most ${LIMITS.MAX_AGENT_CONFIG_BYTES} bytes`,
    example: { instructions: "Summarize yesterday's new leads", channel: "#sales", tools: ["hubspot_get_contact"] },
  });

export const ScheduleConfigSchema = z
  .strictObject({
    interval: z
      .number()
      .int()
      .min(LIMITS.MIN_AGENT_INTERVAL_SECONDS)
      .max(LIMITS.MAX_AGENT_INTERVAL_SECONDS)
      .optional()
      .openapi({
        description: `Run every N seconds (at least ${LIMITS.MIN_AGENT_INTERVAL_SECONDS}), on a grid from when it was set`,
      }),
    cron: z.string().min(1).max(200).optional().openapi({
      description: "A 5-field cron expression (croner syntax: minute hour day-of-month month day-of-week)",
      example: "0 8 * * 1-5",
    }),
    timezone: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "IANA zone of `cron`; UTC when absent", example: "Europe/Berlin" }),
    catch_up: z
      .enum(CATCH_UP_POLICIES)
      .default("none")
      .openapi({
        description:
          "Runs missed while the agent was paused: `none` (default) skips them, `one` runs the most recent once on resume, " +
          `\`all\` runs each of them (at most the ${LIMITS.MAX_AGENT_CATCHUP_RUNS} most recent)`,
      }),
  })
  .superRefine((cfg, ctx) => {
    const kinds = (cfg.interval !== undefined ? 1 : 0) + (cfg.cron !== undefined ? 1 : 0);
    if (kinds !== 1) ctx.addIssue({ code: "custom", path: [], message: "Give exactly one of `interval` (seconds) or `cron`" });
    if (cfg.timezone !== undefined && cfg.cron === undefined) {
      ctx.addIssue({ code: "custom", path: ["timezone"], message: "`timezone` applies to `cron` only" });
    }
    if (cfg.cron === undefined) return;
    // Minute precision, like the interval's minimum: a 6-field (seconds) cron could fire every second.
    const fields = cfg.cron.trim().split(/\s+/).length;
    if (fields !== 5) {
      ctx.addIssue({
        code: "custom",
        path: ["cron"],
        message: `An agent's cron needs 5 fields (minute precision), got ${fields}`,
      });
      return;
    }
    for (const p of cronProblems(cfg.cron, cfg.timezone)) ctx.addIssue({ code: "custom", path: [p.path], message: p.message });
  })
  .openapi("ArrotechScheduleConfig");

const WorkflowId = z
  .string()
  .min(1)
  .max(200)
  .openapi({ description: "The workflow (flow) the agent runs, in the caller's organization" });
const Name = z.string().min(1).max(LIMITS.MAX_NAME_LENGTH);

export const AgentCreateSchema = z
  .strictObject({
    workflow_id: WorkflowId,
    name: Name.optional().openapi({ description: "Defaults to the workflow's name" }),
    agent_config: AgentConfigSchema.nullable().optional(),
    schedule_config: ScheduleConfigSchema.nullable().optional(),
  })
  .openapi("ArrotechAgentCreate");

export const AgentFromTemplateSchema = z
  .strictObject({
    workflow_id: WorkflowId,
    name: Name.optional().openapi({ description: "Defaults to the template's name" }),
    agent_config: AgentConfigSchema.nullable()
      .optional()
      .openapi({ description: "Merged over the template's default_agent_config" }),
    schedule_config: ScheduleConfigSchema.nullable()
      .optional()
      .openapi({ description: "Replaces the template's default_schedule_config" }),
  })
  .openapi("ArrotechAgentFromTemplate");

export const ScheduleBodySchema = z
  .strictObject({
    agent_id: z.string().min(1).max(200).optional().openapi({ description: "When given, must be the agent of the path" }),
    schedule_config: ScheduleConfigSchema,
  })
  .openapi("ArrotechScheduleAgent");

export const ExecuteBodySchema = boundedObject("The input").openapi("ArrotechAgentExecute", {
  description: "Input variables of this run, merged over the agent's agent_config",
  example: { topic: "weekly numbers" },
});

export const AnalyticsQuery = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIMITS.MAX_AGENT_ANALYTICS_DAYS)
    .default(7)
    .openapi({ description: `Window in UTC days, today included (1-${LIMITS.MAX_AGENT_ANALYTICS_DAYS}, default 7)` }),
});

export const AgentParams = z.object({
  agent_id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "agent_id", in: "path" } }),
});
export const TemplateParams = z.object({
  template_id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "template_id", in: "path" } }),
});

const StatusEnum = z.enum(["active", "paused"]);
const TriggerType = z.enum(["schedule", "manual"]).openapi({ description: "`schedule` when the agent has a schedule_config" });
const Iso = z.string().nullable();

export const AgentSchema = z
  .object({
    agent_id: z.string(),
    workflow_id: z.string(),
    name: z.string(),
    status: StatusEnum,
    trigger_type: TriggerType,
    agent_config: z.record(z.string(), z.unknown()),
    schedule_config: ScheduleConfigSchema.nullable(),
    template_id: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("ArrotechAgent");

export const AgentListSchema = z.array(AgentSchema).openapi("ArrotechAgentList");

export const AgentStatusSchema = z
  .object({
    agent_id: z.string(),
    workflow_id: z.string(),
    workflow_name: z.string().nullable().openapi({ description: "null when the workflow was deleted" }),
    status: StatusEnum,
    trigger_type: TriggerType,
    schedule: ScheduleConfigSchema.nullable(),
    execution_count: z.number().int().openapi({ description: "Executions the agent started (scheduled and manual)" }),
    success_count: z.number().int(),
    failure_count: z.number().int().openapi({ description: "Failed or cancelled executions" }),
    success_rate: z
      .number()
      .nullable()
      .openapi({ description: "success_count / execution_count in percent; null before the first run" }),
    last_error: z.string().nullable().openapi({
      description:
        "The most recent error: a failed execution's, or a scheduled run that could not start (workflow disabled or deleted)",
    }),
    last_error_at: Iso,
    fire_error_count: z.number().int().openapi({ description: "Scheduled runs that could not start" }),
    last_run_at: Iso,
    next_run_at: Iso.openapi({ description: "The next scheduled run; null when paused or without a schedule" }),
    monitoring: z.object({
      execution_count: z.number().int(),
      success_count: z.number().int(),
      last_error: z.string().nullable(),
      success_rate: z.number().nullable(),
    }),
    performance_metrics: z.object({ average_duration_ms: z.number().nullable(), failure_count: z.number().int() }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("ArrotechAgentStatus");

export const ExecuteResultSchema = z
  .object({
    agent_id: z.string(),
    execution_id: z.string(),
    status: z
      .string()
      .openapi({ description: "The execution's status at the start (pending when it waits for a concurrency slot)" }),
  })
  .openapi("ArrotechAgentExecution");

const DayFigures = z.object({
  runs: z.number().int(),
  successes: z.number().int(),
  failures: z.number().int(),
  average_duration_ms: z.number().nullable().openapi({ description: "Mean of the finished runs, start to finish" }),
});

export const AnalyticsSchema = z
  .object({
    agent_id: z.string(),
    days: z.number().int(),
    from: z.string(),
    to: z.string().openapi({ description: "Exclusive end: the next UTC midnight" }),
    totals: DayFigures.extend({ success_rate: z.number().nullable() }),
    daily: z.array(DayFigures.extend({ date: z.string().openapi({ example: "2026-03-30" }) })),
  })
  .openapi("ArrotechAgentAnalytics");

export const AgentTemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    workflow_kind: z.string().openapi({ description: "The kind of workflow the agent expects to run" }),
    default_schedule_config: ScheduleConfigSchema,
    default_agent_config: z.record(z.string(), z.unknown()),
  })
  .openapi("ArrotechAgentTemplate");

export const AgentTemplateListSchema = z.array(AgentTemplateSchema).openapi("ArrotechAgentTemplateList");
