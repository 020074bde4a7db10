import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, triggerRoute } from "../../api/router";
import type { Env } from "../../env";
import { AppError } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { IdParam } from "../../schemas/common";
import { startExecution, startedBy } from "../../services/executions";
import { requireFlow } from "../../services/flows";
import { executionClient } from "../../services/object-clients";
import { listRuns, runFromRow, runView } from "../../services/runs";
import { ARROTECH_TAG, ExecuteSchema, ExecutionListQuery, ExecutionListSchema, ExecutionSchema, NOUN } from "./workflows-schemas";
import { executionDetail, executionSummary } from "./workflows-present";
import { declaredVariables, workflowStatus } from "./workflows-translate";

/**
 * Running workflows: execute with `input_data` (the run's variables, over the workflow's own), the executions of
 * one workflow and of all. Executions are the engine's: the same rows /v1/automation/executions lists.
 */

const TAGS = [ARROTECH_TAG];
const Params = z.object({ workflow_id: IdParam("workflow_id").openapi({ description: "The workflow's (flow's) id" }) });

const listAll = scopedRoute("automations:read", {
  method: "get",
  path: "/executions",
  operationId: "arrotechListAllExecutions",
  tags: TAGS,
  summary: "Get all workflow executions of the organization, newest first",
  request: { query: ExecutionListQuery },
  responses: { 200: jsonResponse(ExecutionListSchema, "Executions") },
});

const listOne = scopedRoute("automations:read", {
  method: "get",
  path: "/{workflow_id}/executions",
  operationId: "arrotechListWorkflowExecutions",
  tags: TAGS,
  summary: "Get all executions of a workflow, newest first",
  request: { params: Params, query: ExecutionListQuery },
  responses: { 200: jsonResponse(ExecutionListSchema, "Executions"), ...errorResponses(404) },
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
  request: { params: Params, ...jsonBody(ExecuteSchema, false) },
  responses: { 200: jsonResponse(ExecutionSchema, "The execution"), ...errorResponses(404, 409) },
});

type ListQuery = z.infer<typeof ExecutionListQuery>;

/** One page of executions (of one workflow, when given) in the workflow list's shape. */
async function executionPage(env: Env, orgId: string, q: ListQuery, flowId?: string) {
  const rows = await listRuns(env, orgId, { ...q, flowId });
  const results = rows.results.map((r) => executionSummary(runFromRow(r)));
  return asResponse(ExecutionListSchema, { total: rows.total, limit: rows.limit, offset: rows.offset, results });
}

export const workflowRunsRouter = createRouter()
  .openapi(listAll, async (c) => c.json(await executionPage(c.env, c.get("principal").orgId, c.req.valid("query")), 200))
  .openapi(listOne, async (c) => {
    const orgId = c.get("principal").orgId;
    const { workflow_id } = c.req.valid("param");
    await requireFlow(c.env, orgId, workflow_id, NOUN);
    return c.json(await executionPage(c.env, orgId, c.req.valid("query"), workflow_id), 200);
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
    const started = await startExecution(c.env, {
      orgId: p.orgId,
      flow,
      user: startedBy(p),
      triggerEvent: { type: "manual", org_id: p.orgId, entity_id: null, caller: { actor: p.actor }, input_data: input },
      variables: { ...declaredVariables(flow), ...input },
    });
    await executionClient(c.env, started.id).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
    const run = await runView(c.env, started.id, p.orgId);
    return c.json(asResponse(ExecutionSchema, executionDetail(run, flow, input)), 200);
  });
