import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, scopedRoute, triggerRoute } from "../../api/router";
import { AppError } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { IdParam } from "../../schemas/common";
import { executionClient } from "../../services/executions";
import { requireFlow } from "../../services/flows";
import { RUN_TO_EXECUTION, runFromRow, runView } from "../../services/runs";
import { startFlowExecution } from "../../services/start-flow";
import { listExecutions } from "../../store/executions";
import { ARROTECH_TAG, ExecuteSchema, ExecutionListQuery, ExecutionListSchema, ExecutionSchema, NOUN } from "./workflows-schemas";
import { executionDetail, executionSummary } from "./workflows-present";
import { declaredVariables, workflowStatus } from "./workflows-translate";

/**
 * Running workflows: execute with `input_data` (the run's variables, over the workflow's own), the executions of
 * one workflow and of all. Executions are the engine's: the same rows /v1/automation/executions lists.
 */

const TAGS = [ARROTECH_TAG];
const Params = z.object({ workflow_id: IdParam("workflow_id").openapi({ description: "The workflow's (flow's) id" }) });
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const listAll = scopedRoute("automations:read", {
  method: "get",
  path: "/executions",
  operationId: "arrotechListAllExecutions",
  tags: TAGS,
  summary: "Get all workflow executions of the organization, newest first",
  request: { query: ExecutionListQuery },
  responses: { 200: json(ExecutionListSchema, "Executions") },
});

const listOne = scopedRoute("automations:read", {
  method: "get",
  path: "/{workflow_id}/executions",
  operationId: "arrotechListWorkflowExecutions",
  tags: TAGS,
  summary: "Get all executions of a workflow, newest first",
  request: { params: Params, query: ExecutionListQuery },
  responses: { 200: json(ExecutionListSchema, "Executions"), ...errorResponses(404) },
});

const execute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{workflow_id}/execute",
  operationId: "arrotechExecuteWorkflow",
  tags: TAGS,
  summary: "Execute a workflow with input_data",
  description:
    "`input_data` becomes the run's variables, over the workflow's `variables`: steps see them as `{{ variables.x }}` " +
    `(and the whole input as \`{{ trigger.input_data }}\`). Answers once the run settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms ` +
    "with status running. A paused or draft workflow is refused with 409 FLOW_DISABLED.",
  request: { params: Params, body: { content: { "application/json": { schema: ExecuteSchema } }, required: false } },
  responses: { 200: json(ExecutionSchema, "The execution"), ...errorResponses(404, 409) },
});

type ListQuery = z.infer<typeof ExecutionListQuery>;

function listFilter(orgId: string, q: ListQuery, flowId?: string) {
  return {
    orgId,
    flowId,
    statuses: q.status ? RUN_TO_EXECUTION[q.status] : undefined,
    since: q.since ? new Date(q.since).toISOString() : undefined,
    limit: q.limit ?? LIMITS.DEFAULT_PAGE_SIZE,
    offset: q.offset ?? 0,
  };
}

export const workflowRunsRouter = createRouter()
  .openapi(listAll, async (c) => {
    const f = listFilter(c.get("principal").orgId, c.req.valid("query"));
    const rows = await listExecutions(c.env.DB, f);
    const results = rows.results.map((r) => executionSummary(runFromRow(r)));
    return c.json(asResponse(ExecutionListSchema, { total: rows.total, limit: f.limit, offset: f.offset, results }), 200);
  })
  .openapi(listOne, async (c) => {
    const orgId = c.get("principal").orgId;
    const { workflow_id } = c.req.valid("param");
    await requireFlow(c.env, orgId, workflow_id, NOUN);
    const f = listFilter(orgId, c.req.valid("query"), workflow_id);
    const rows = await listExecutions(c.env.DB, f);
    const results = rows.results.map((r) => executionSummary(runFromRow(r)));
    return c.json(asResponse(ExecutionListSchema, { total: rows.total, limit: f.limit, offset: f.offset, results }), 200);
  })
  .openapi(execute, async (c) => {
    const p = c.get("principal");
    // Without a body the validator is skipped: no input.
    const input = c.req.valid("json")?.input_data ?? {};
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").workflow_id, NOUN);
    const status = workflowStatus(flow);
    if (status !== "active") {
      // Drafts are disabled flows: they run neither from triggers nor on demand until activated.
      throw new AppError(
        409,
        "FLOW_DISABLED",
        `Workflow is ${status === "draft" ? "a draft" : "paused"}: set status to active to run it`,
      );
    }
    const started = await startFlowExecution(c.env, p, {
      flowId: flow.id,
      triggerEvent: { type: "manual", org_id: p.orgId, entity_id: null, caller: { actor: p.actor }, input_data: input },
      variables: { ...declaredVariables(flow), ...input },
    });
    await executionClient(c.env, started.id, p.orgId).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
    const run = await runView(c.env, started.id, p.orgId);
    return c.json(asResponse(ExecutionSchema, executionDetail(run, flow, input)), 200);
  });
