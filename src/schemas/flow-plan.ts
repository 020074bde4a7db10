import { z } from "@hono/zod-openapi";

/** The limits planner's answer (engine/plan/plan.ts, docs/reruns.md). */

const PlanIssueSchema = z.object({ code: z.string(), message: z.string(), path: z.string().optional() }).openapi("FlowPlanIssue");

export const FlowPlanSchema = z
  .object({
    max_actions: z
      .number()
      .int()
      .openapi({ description: "Action runs in the worst case: loops at their largest, retries excluded" }),
    max_attempts: z.number().int().openapi({ description: "With every attempt of every retry policy" }),
    max_outbound_requests: z.number().int().openapi({ description: "Outbound requests of one execution in the worst case" }),
    max_outbound_requests_per_invocation: z.number().int().openapi({
      description: "The most one invocation of the execution's object may send (it runs at most 10 actions in a row)",
    }),
    subrequest_limits: z.object({ free: z.number().int(), paid: z.number().int() }),
    max_payload_bytes: z
      .number()
      .int()
      .openapi({ description: "The largest outputs of one action, before the stored-output caps" }),
    total_delay_seconds: z.number(),
    max_model_tokens: z.number().int(),
    est_cpu_ms: z.number().int().openapi({ description: "Estimated CPU time of one execution" }),
    warnings: z.array(PlanIssueSchema),
    errors: z
      .array(PlanIssueSchema)
      .openapi({ description: "Why no run can stay within the limits: such a flow is refused on save" }),
  })
  .openapi("FlowPlan", { description: "What the flow can cost in the worst case, from its definition alone" });
