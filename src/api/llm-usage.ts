import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { llmUsageReport } from "../services/llm-usage";
import { createRouter, errorResponses, jsonResponse, scopedRoute } from "./router";

/** `GET /v1/usage/llm`: the model tokens of the organization's AI steps, per UTC day and model (services/llm-usage.ts). */

const Tokens = {
  calls: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  total_tokens: z.number(),
};

const LlmUsageReportSchema = z
  .object({
    org_id: z.string(),
    days: z.number(),
    from: z.string().openapi({ description: "First UTC day reported (YYYY-MM-DD)" }),
    to: z.string().openapi({ description: "Today (UTC)" }),
    daily_budget: z
      .number()
      .nullable()
      .openapi({ description: "Tokens the organization's AI steps may spend per UTC day (its plan's); null: no budget" }),
    totals: z.object(Tokens),
    by_day: z.array(
      z.object({
        day: z.string(),
        totals: z.object(Tokens),
        models: z.array(z.object({ day: z.string(), provider: z.string(), model: z.string(), ...Tokens })),
      }),
    ),
  })
  .openapi("LlmUsageReport");

const usageRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/llm",
  operationId: "getLlmUsage",
  tags: ["arrotech"],
  summary: "Model tokens spent by AI steps, per UTC day and model, with the organization's daily budget",
  request: {
    query: z.object({
      days: z.coerce
        .number()
        .int()
        .min(1)
        .max(LIMITS.LLM_USAGE_MAX_DAYS)
        .optional()
        .openapi({ description: `UTC days ending today (default 7, at most ${LIMITS.LLM_USAGE_MAX_DAYS})` }),
    }),
  },
  responses: {
    200: jsonResponse(LlmUsageReportSchema, "Usage"),
    ...errorResponses(400, 401, 403),
  },
});

export const llmUsageRouter = createRouter().openapi(usageRoute, async (c) => {
  const { days } = c.req.valid("query");
  return c.json(await llmUsageReport(c.env, c.get("principal").orgId, days ?? 7), 200);
});
