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
import { startFlowExecution } from "../services/start-flow";
import { getFlow } from "../store/flows";
import { getRecord } from "../store/records";
import type { Principal } from "./context";
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

export const DryRunSchema = z
  .object({
    would_execute: z.boolean(),
    conditions_passed: z.boolean(),
    conditions_evaluated: z.array(z.record(z.string(), z.unknown())),
    actions_preview: z.array(z.record(z.string(), z.unknown())),
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
  path: "/v1/automation/flows/{flow_id}/trigger",
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
  path: "/v1/automation/flows/{flow_id}/test",
  operationId: "testFlow",
  tags: TAGS,
  summary:
    "Dry run: evaluate the flow's conditions and render its actions against a record or test data; nothing runs, nothing changes",
  request: { params, body: { content: { "application/json": { schema: ManualRunBody } }, required: false } },
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
    const client = executionClient(c.env, started.id);
    await client.waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
    const snap = await client.snapshot();
    if (!snap) throw notFound("Run");
    return c.json(asResponse(RunSchema, toRun(snap.state, snap.attempts)), 200);
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
    );
    return c.json(asResponse(DryRunSchema, result), 200);
  });
