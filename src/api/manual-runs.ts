import { z } from "@hono/zod-openapi";
import { dryRun } from "../engine/dry-run";
import { toRun } from "../engine/execution/views";
import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { RunSchema } from "../schemas/executions";
import { executionClient, toFlowSnapshot } from "../services/executions";
import { getRecordSnapshot } from "../services/records";
import { readExecution } from "../services/queued-executions";
import { startFlowExecution } from "../services/start-flow";
import { getFlow } from "../store/flows";
import { getRecord } from "../store/records";
import type { Principal } from "../lib/principal";
import { asResponse, createRouter, errorResponses, scopedRoute } from "./router";

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

/** The record (and its schema) to run against: a stored record, test data, or both merged. */
async function runSubject(env: Env, p: Principal, body: z.infer<typeof ManualRunBody>) {
  let entity: Record<string, unknown> | null = null;
  if (body.record_id) {
    const row = await getRecord(env.DB, p.orgId, null, body.record_id);
    if (!row) throw notFound("Record");
    entity = (await getRecordSnapshot(env.DB, p.orgId, row.schema, row.id)) as unknown as Record<string, unknown>;
  }
  if (body.test_data) entity = { _id: body.record_id ?? "test", ...(entity ?? {}), ...body.test_data };
  const triggerEvent = {
    type: "manual",
    org_id: p.orgId,
    entity_id: body.record_id ?? entity?._id ?? null,
    caller: { actor: p.actor },
    ...(body.test_data ? { test_data: body.test_data } : {}),
    ...(body.previous ? { previous: body.previous } : {}),
  };
  return { entity, triggerEvent };
}

const triggerRoute = scopedRoute("automations:trigger", {
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
    body: { content: { "application/json": { schema: ManualRunBody } }, required: false },
  },
  responses: {
    200: { description: "The run", content: { "application/json": { schema: RunSchema } } },
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

const testRoute = scopedRoute("automations:trigger", {
  method: "post",
  path: "/{flow_id}/test",
  operationId: "testFlow",
  tags: TAGS,
  summary:
    "Dry run: the flow goes through the engine as a run would, against a record or test data, with every action answered by a " +
    "synthetic success (a delay waits, cancel-flow-execution cancels) and the clock jumping over schedules and delays; nothing runs, nothing changes",
  request: { params, body: { content: { "application/json": { schema: DryRunBody } }, required: false } },
  responses: {
    200: { description: "What the flow would do", content: { "application/json": { schema: DryRunSchema } } },
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

export const manualRunsRouter = createRouter()
  .openapi(triggerRoute, async (c) => {
    const p = c.get("principal");
    const { flow_id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const { entity, triggerEvent } = await runSubject(c.env, p, body);
    const started = await startFlowExecution(c.env, p, {
      flowId: flow_id,
      entityId: (triggerEvent.entity_id as string | null) ?? undefined,
      entity,
      idempotencyKey: c.req.valid("header")["idempotency-key"],
      idempotencyScope: `trigger:${flow_id}`,
      triggerEvent,
    });
    await executionClient(c.env, started.id).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
    // An execution waiting for a slot of the flow's concurrency_limit answers as running, from the queue.
    const snap = await readExecution(c.env, p.orgId, started.id);
    if (!snap) throw notFound("Run");
    return c.json(asResponse(RunSchema, toRun(snap.state, snap.detail)), 200);
  })
  .openapi(testRoute, async (c) => {
    const p = c.get("principal");
    const { flow_id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const flow = await getFlow(c.env.DB, p.orgId, flow_id);
    if (!flow) throw notFound("Flow");
    const { entity, triggerEvent } = await runSubject(c.env, p, body);
    const result = dryRun(
      {
        id: "dry-run",
        org_id: p.orgId,
        flow: toFlowSnapshot(flow),
        entity_id: String(triggerEvent.entity_id ?? ""),
        entity,
        trigger_event: triggerEvent,
        user: { id: p.userId, email: p.email },
      },
      Date.now(),
      { outputs: body.outputs },
    );
    return c.json(asResponse(DryRunSchema, result), 200);
  });
