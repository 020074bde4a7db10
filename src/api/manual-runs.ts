import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { RunSchema } from "../schemas/executions";
import { requireFlow } from "../services/flows";
import { dryRunFlow, triggerRun } from "../services/runs";
import { asResponse, createRouter, errorResponses, triggerRoute, jsonBody, jsonResponse } from "./router";

const TAGS = ["runs"];

const ManualRunBody = z
  .object({
    record_id: z.string().min(1).max(200).optional().openapi({ description: "Run against this record" }),
    test_data: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Run against this data as the record (merged over the record when both are given)" }),
    previous: z.record(z.string(), z.unknown()).optional().openapi({ description: "Previous values, for changed_* conditions" }),
  })
  .strict()
  .openapi("ManualRunRequest");

const DryRunBody = ManualRunBody.extend({
  outputs: z.record(z.string().max(LIMITS.MAX_FLOW_ITEM_ID_LENGTH), z.record(z.string(), z.unknown())).optional().openapi({
    description:
      "Sample outputs per action id, used in place of the synthetic `{ dry_run: true, config }` so later templates, conditions and loops can read them",
  }),
})
  .strict()
  .openapi("DryRunRequest");

export const DryRunSchema = z
  .object({
    would_execute: z.boolean(),
    conditions_passed: z.boolean(),
    conditions_evaluated: z.array(z.record(z.string(), z.unknown())),
    actions_preview: z.array(z.record(z.string(), z.unknown())).openapi({
      description:
        "Per action: would_run, status, skip_reason, condition, rendered_config, scheduled_for, runs_at, waits_until, loop_items, error, note",
    }),
    status: z.string().openapi({ description: "The execution's status at the end of the simulated run" }),
    complete: z.boolean().openapi({ description: "False when the simulation stopped at the step limit" }),
    finishes_at: z.string().optional().openapi({ description: "When the run would finish, on the simulated clock" }),
  })
  .openapi("DryRunResult");

const params = z.object({ flow_id: IdParam("flow_id") });

const triggerFlowRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{flow_id}/trigger",
  operationId: "triggerFlow",
  tags: TAGS,
  summary:
    `Run the flow now (optionally on a record or test data) and return the normalized run once it settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms with status running. ` +
    "An Idempotency-Key header returns the same run for 24 hours.",
  request: {
    params,
    headers: z.object({ "idempotency-key": z.string().min(1).max(200).optional() }),
    ...jsonBody(ManualRunBody, false),
  },
  responses: {
    200: jsonResponse(RunSchema, "The run"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

const testRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{flow_id}/test",
  operationId: "testFlow",
  tags: TAGS,
  summary:
    "Dry run: the flow goes through the engine as a run would, against a record or test data, with every action answered by a " +
    "synthetic success (a delay waits, cancel-flow-execution cancels) and the clock jumping over schedules and delays; nothing runs, nothing changes",
  request: { params, ...jsonBody(DryRunBody, false) },
  responses: {
    200: jsonResponse(DryRunSchema, "What the flow would do"),
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

export const manualRunsRouter = createRouter()
  .openapi(triggerFlowRoute, async (c) => {
    const { flow_id } = c.req.valid("param");
    const run = await triggerRun(c.env, c.get("principal"), flow_id, c.req.valid("json") ?? {}, {
      key: c.req.valid("header")["idempotency-key"],
      scope: `trigger:${flow_id}`,
    });
    return c.json(asResponse(RunSchema, run), 200);
  })
  .openapi(testRoute, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json") ?? {};
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").flow_id);
    const result = await dryRunFlow(c.env, p, flow, body, { outputs: body.outputs });
    return c.json(asResponse(DryRunSchema, result), 200);
  });
