import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "../../api/router";
import type { Env } from "../../env";
import { LIMITS } from "../../lib/limits";
import type { Principal } from "../../lib/principal";
import { IdParam } from "../../schemas/common";
import { createFlow, listWorkflowFlows, removeFlow, requireFlow, setFlowEnabledBy, updateFlow } from "../../services/flows";
import {
  ARROTECH_TAG,
  CreateWorkflowSchema,
  DeletedWorkflowSchema,
  FromStepsSchema,
  NOUN,
  UpdateWorkflowSchema,
  WorkflowListQuery,
  WorkflowListSchema,
  WorkflowSchema,
} from "./workflows-schemas";
import { presentWorkflow } from "./workflows-present";
import { workflowRunsRouter } from "./workflows-runs";
import { workflowLens, type WorkflowModel } from "./workflows-translate";

/**
 * Arrotech Hub's workflows (seed 002) at `/v1/workflows`: create, create from steps, list, get, update, delete;
 * execute and executions are in workflows-runs.ts. A workflow is a flow (same id, same row): writes go through
 * workflows-translate.ts and the flow writes of the native API.
 */

/** Where app.ts mounts workflowsRouter; its paths are relative to it. */
export const WORKFLOWS_BASE = "/v1/workflows";
const TAGS = [ARROTECH_TAG];
const Params = z.object({ workflow_id: IdParam("workflow_id").openapi({ description: "The workflow's (flow's) id" }) });

const create = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "arrotechCreateWorkflow",
  tags: TAGS,
  summary: "Create a workflow from its fields (steps, trigger, variables)",
  request: jsonBody(CreateWorkflowSchema),
  responses: { 201: jsonResponse(WorkflowSchema, "The created workflow") },
});
const fromSteps = scopedRoute("automations:write", {
  method: "post",
  path: "/from-steps",
  operationId: "arrotechCreateWorkflowFromSteps",
  tags: TAGS,
  summary: "Create a workflow from explicit step definitions (saved as a draft unless status says otherwise)",
  request: jsonBody(FromStepsSchema),
  responses: { 201: jsonResponse(WorkflowSchema, "The created workflow") },
});
const list = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "arrotechListWorkflows",
  tags: TAGS,
  summary: "Get all workflows of the organization, newest first",
  description: `Filters: status, trigger_type, search. Paging: limit (at most ${LIMITS.MAX_PAGE_SIZE}), offset.`,
  request: { query: WorkflowListQuery },
  responses: { 200: jsonResponse(WorkflowListSchema, "Workflows") },
});
const get = scopedRoute("automations:read", {
  method: "get",
  path: "/{workflow_id}",
  operationId: "arrotechGetWorkflow",
  tags: TAGS,
  summary: "Get a workflow (any flow of the organization; x_native when it has parts the shape cannot hold)",
  request: { params: Params },
  responses: { 200: jsonResponse(WorkflowSchema, "The workflow"), ...errorResponses(404) },
});
const update = scopedRoute("automations:write", {
  method: "put",
  path: "/{workflow_id}",
  operationId: "arrotechUpdateWorkflow",
  tags: TAGS,
  summary: "Update a workflow (fields left out keep their value)",
  description:
    "A flow that the workflow shape cannot express (x_native) accepts only `status` active/paused here (409 " +
    "NOT_EXPRESSIBLE otherwise); edit it through /v1/automation/flows.",
  request: { params: Params, ...jsonBody(UpdateWorkflowSchema) },
  responses: { 200: jsonResponse(WorkflowSchema, "The updated workflow"), ...errorResponses(404, 409) },
});
const del = scopedRoute("automations:write", {
  method: "delete",
  path: "/{workflow_id}",
  operationId: "arrotechDeleteWorkflow",
  tags: TAGS,
  summary: "Delete a workflow",
  request: { params: Params },
  responses: { 200: jsonResponse(DeletedWorkflowSchema, "Deleted"), ...errorResponses(404) },
});

/** Saves a new workflow and answers it. */
export async function createWorkflow(env: Env, p: Principal, model: WorkflowModel) {
  return presentWorkflow(await createFlow(env, p, workflowLens.write(model), NOUN));
}

type UpdateBody = z.infer<typeof UpdateWorkflowSchema>;

/** Applies a partial update; a flow the shape cannot express takes only active/paused. */
async function updateWorkflow(env: Env, p: Principal, id: string, b: UpdateBody) {
  const flow = await requireFlow(env, p.orgId, id, NOUN);
  const view = workflowLens.read(flow);
  const statusOnly = Object.keys(b).length === 1 && b.status !== undefined && b.status !== "draft";
  if (!view.exact) {
    if (!statusOnly) throw workflowLens.refusal(view);
    return setFlowEnabledBy(env, p, id, b.status === "active", NOUN);
  }
  const m = view.doc;
  const triggerType = b.trigger_type ?? m.trigger_type;
  const next: WorkflowModel = {
    name: b.name ?? m.name,
    description: b.description !== undefined ? b.description : m.description,
    status: b.status ?? m.status,
    trigger_type: triggerType,
    // A new trigger type starts from an empty configuration unless the body gives one.
    trigger_config: b.trigger_config ?? (triggerType === m.trigger_type ? m.trigger_config : {}),
    variables: b.variables ?? m.variables,
    steps: b.steps ?? m.steps,
    workflow_metadata: b.workflow_metadata ?? m.workflow_metadata,
  };
  const ids = { metaId: view.keep.metaId, triggerId: triggerType === m.trigger_type ? view.keep.triggerId : undefined };
  return updateFlow(env, p, flow, workflowLens.write(next, ids), NOUN);
}

export const workflowsRouter = createRouter()
  // Runs first: GET /executions is not a workflow id.
  .route("/", workflowRunsRouter)
  .openapi(create, async (c) => {
    const b = c.req.valid("json");
    const model: WorkflowModel = { ...b, description: b.description ?? null };
    return c.json(asResponse(WorkflowSchema, await createWorkflow(c.env, c.get("principal"), model)), 201);
  })
  .openapi(fromSteps, async (c) => {
    const { workflow_name, ...b } = c.req.valid("json");
    const model: WorkflowModel = { ...b, name: workflow_name };
    return c.json(asResponse(WorkflowSchema, await createWorkflow(c.env, c.get("principal"), model)), 201);
  })
  .openapi(list, async (c) => {
    const orgId = c.get("principal").orgId;
    const q = c.req.valid("query");
    const limit = q.limit ?? LIMITS.DEFAULT_PAGE_SIZE;
    const offset = q.offset ?? 0;
    const found = await listWorkflowFlows(c.env, orgId, q, limit, offset);
    const results = found.results.map(presentWorkflow);
    return c.json(asResponse(WorkflowListSchema, { total: found.total, limit, offset, results }), 200);
  })
  .openapi(get, async (c) => {
    const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").workflow_id, NOUN);
    return c.json(asResponse(WorkflowSchema, presentWorkflow(flow)), 200);
  })
  .openapi(update, async (c) => {
    const saved = await updateWorkflow(c.env, c.get("principal"), c.req.valid("param").workflow_id, c.req.valid("json"));
    return c.json(asResponse(WorkflowSchema, presentWorkflow(saved)), 200);
  })
  .openapi(del, async (c) => {
    const { workflow_id } = c.req.valid("param");
    await removeFlow(c.env, c.get("principal").orgId, workflow_id, NOUN);
    return c.json({ id: workflow_id, deleted: true as const }, 200);
  });
