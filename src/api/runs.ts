import { z } from "@hono/zod-openapi";
import { runStatus, toRun } from "../engine/execution/views";
import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { RunListSchema, RunSchema, RunsQuery } from "../schemas/executions";
import { executionClient, startExecution } from "../services/executions";
import { readExecution } from "../services/queued-executions";
import { getExecutionRow, listExecutions, type ExecutionRow } from "../store/executions";
import { getFlow } from "../store/flows";
import { asResponse, createRouter, errorResponses, scopedRoute } from "./router";

const TAGS = ["runs"];
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Normalized run statuses → the execution statuses they stand for. */
const RUN_TO_EXECUTION: Record<string, string[]> = {
  completed: ["success"],
  failed: ["failed", "cancelled", "hot"],
  skipped: ["skipped"],
  running: ["pending", "starting", "in_progress", "paused", "scheduled"],
};

function runFromRow(r: ExecutionRow) {
  return {
    run_id: r.id,
    flow_id: r.flow_id,
    status: runStatus(r.status),
    execution_status: r.status,
    started_at: r.started_at ?? r.created_at,
    finished_at: r.finished_at,
    actions_total: r.actions_total,
    actions_executed: r.actions_executed,
    actions_failed: r.actions_failed,
    actions_skipped: r.actions_skipped,
    ...(r.last_error ? { error: r.last_error } : {}),
  };
}

/** The run view of an execution, read from its object (or the admission queue, while it waits for a slot). */
export async function runView(env: Env, executionId: string, orgId: string) {
  const snap = await readExecution(env, orgId, executionId);
  if (!snap) throw notFound("Run");
  return toRun(snap.state, snap.detail);
}

const listRuns = scopedRoute("automations:read", {
  method: "get",
  path: "/flows/{flow_id}/runs",
  operationId: "listFlowRuns",
  tags: TAGS,
  summary: "A flow's runs, newest first (statuses completed, failed, running, skipped)",
  request: { params: z.object({ flow_id: IdParam("flow_id") }), query: RunsQuery },
  responses: { 200: json(RunListSchema, "Runs"), ...errorResponses(400, 401, 403, 404) },
});

const getRun = scopedRoute("automations:read", {
  method: "get",
  path: "/runs/{run_id}",
  operationId: "getRun",
  tags: TAGS,
  summary: "One run with inline action_results[] (request, response, error, duration_ms per action)",
  request: { params: z.object({ run_id: IdParam("run_id") }) },
  responses: { 200: json(RunSchema, "The run"), ...errorResponses(401, 403, 404) },
});

const ExecuteActionBody = z
  .object({
    record_id: z.string().max(200).optional(),
    test_data: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("ExecuteActionRequest");

const executeAction = scopedRoute("automations:trigger", {
  method: "post",
  path: "/flows/{flow_id}/actions/{action_id}/execute",
  operationId: "executeFlowAction",
  tags: TAGS,
  summary:
    "Run one action of a flow in isolation (its condition and schedule are not applied), through the same pipeline; " +
    `returns the run once it settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms with status running`,
  request: {
    params: z.object({ flow_id: IdParam("flow_id"), action_id: IdParam("action_id") }),
    body: { content: { "application/json": { schema: ExecuteActionBody } }, required: false },
  },
  responses: { 200: json(RunSchema, "The run"), ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const runsRouter = createRouter()
  .openapi(listRuns, async (c) => {
    const orgId = c.get("principal").orgId;
    const { flow_id } = c.req.valid("param");
    const q = c.req.valid("query");
    if (!(await getFlow(c.env.DB, orgId, flow_id))) throw notFound("Flow");
    const page = await listExecutions(c.env.DB, {
      orgId,
      flowId: flow_id,
      statuses: q.status ? RUN_TO_EXECUTION[q.status] : undefined,
      since: q.since ? new Date(q.since).toISOString() : undefined,
      limit: q.limit ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: 0,
    });
    return c.json(asResponse(RunListSchema, { data: page.results.map(runFromRow), total: page.total }), 200);
  })
  .openapi(getRun, async (c) => {
    const { run_id } = c.req.valid("param");
    if (!(await getExecutionRow(c.env.DB, c.get("principal").orgId, run_id))) throw notFound("Run");
    return c.json(asResponse(RunSchema, await runView(c.env, run_id, c.get("principal").orgId)), 200);
  })
  .openapi(executeAction, async (c) => {
    const p = c.get("principal");
    const { flow_id, action_id } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const flow = await getFlow(c.env.DB, p.orgId, flow_id);
    if (!flow) throw notFound("Flow");
    const action = flow.actions.find((a) => a.id === action_id);
    if (!action) throw notFound("Action");
    const { condition_id: _c, schedule_id: _s, ...isolated } = action;
    const entity = body.test_data ? { _id: body.record_id ?? "test", ...body.test_data } : undefined;
    const started = await startExecution(c.env, {
      orgId: p.orgId,
      flow: { ...flow, actions: [isolated] as typeof flow.actions },
      entityId: body.record_id,
      entity,
      triggerEvent: { type: "manual", mode: "single_action", action_id, org_id: p.orgId, caller: { actor: p.actor } },
      user: { id: p.userId, email: p.email },
    });
    await executionClient(c.env, started.id).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
    return c.json(asResponse(RunSchema, await runView(c.env, started.id, p.orgId)), 200);
  });
