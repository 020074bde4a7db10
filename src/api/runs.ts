import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { RunListSchema, RunSchema, RunsQuery } from "../schemas/executions";
import { requireFlow } from "../services/flows";
import { executeSingleAction, getRun, listFlowRuns, runFromRow } from "../services/runs";
import { asResponse, createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "./router";

const TAGS = ["runs"];

const listRuns = scopedRoute("automations:read", {
  method: "get",
  path: "/flows/{flow_id}/runs",
  operationId: "listFlowRuns",
  tags: TAGS,
  summary: "A flow's runs, newest first (statuses completed, failed, running, skipped)",
  request: { params: z.object({ flow_id: IdParam("flow_id") }), query: RunsQuery },
  responses: { 200: jsonResponse(RunListSchema, "Runs"), ...errorResponses(400, 401, 403, 404) },
});

const getRunRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/runs/{run_id}",
  operationId: "getRun",
  tags: TAGS,
  summary: "One run with inline action_results[] (request, response, error, duration_ms per action)",
  request: { params: z.object({ run_id: IdParam("run_id") }) },
  responses: { 200: jsonResponse(RunSchema, "The run"), ...errorResponses(401, 403, 404) },
});

const ExecuteActionBody = z
  .object({
    record_id: z.string().max(200).optional(),
    test_data: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("ExecuteActionRequest");

const executeAction = triggerRoute("automations:trigger", {
  method: "post",
  path: "/flows/{flow_id}/actions/{action_id}/execute",
  operationId: "executeFlowAction",
  tags: TAGS,
  summary:
    "Run one action of a flow in isolation (its condition and schedule are not applied), through the same pipeline; " +
    `returns the run once it settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms with status running`,
  request: {
    params: z.object({ flow_id: IdParam("flow_id"), action_id: IdParam("action_id") }),
    ...jsonBody(ExecuteActionBody, false),
  },
  responses: { 200: jsonResponse(RunSchema, "The run"), ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const runsRouter = createRouter()
  .openapi(listRuns, async (c) => {
    const orgId = c.get("principal").orgId;
    const { flow_id } = c.req.valid("param");
    await requireFlow(c.env, orgId, flow_id);
    const page = await listFlowRuns(c.env, orgId, flow_id, c.req.valid("query"));
    return c.json(asResponse(RunListSchema, { data: page.results.map(runFromRow), total: page.total }), 200);
  })
  .openapi(getRunRoute, async (c) => {
    const { run } = await getRun(c.env, c.get("principal").orgId, c.req.valid("param").run_id);
    return c.json(asResponse(RunSchema, run), 200);
  })
  .openapi(executeAction, async (c) => {
    const p = c.get("principal");
    const { flow_id, action_id } = c.req.valid("param");
    const flow = await requireFlow(c.env, p.orgId, flow_id);
    return c.json(asResponse(RunSchema, await executeSingleAction(c.env, p, flow, action_id, c.req.valid("json") ?? {})), 200);
  });
