import { z } from "@hono/zod-openapi";
import { createRouter, errorResponses, scopedRoute, asResponse, triggerRoute, jsonBody, jsonResponse } from "../../api/router";
import { notFound } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { IdParam } from "../../schemas/common";
import { RunsQuery } from "../../schemas/executions";
import { executeSingleAction, getRun, listFlowRuns, runFromRow, triggerRun } from "../../services/runs";
import { listFlows, removeFlow, requireFlow, setFlowEnabledBy } from "../../services/flows";
import { createAutomation, mutate, present } from "./automations";
import {
  NOUN,
  TRUSTPAGER_TAG,
  TpAutomationCreateSchema,
  TpAutomationListSchema,
  TpAutomationPatchSchema,
  TpAutomationSchema,
  TpDeletedSchema,
  TpListQuery,
  TpRunListSchema,
  TpRunSchema,
  TpTriggerBody,
  type TpTriggerType,
} from "./schemas";
import { subResourcesRouter } from "./sub-resources";

/**
 * TrustPager's Automations API (seed 003) at `/api/v1/automations`: automations, enable/disable, manual trigger,
 * runs and single-action execution. Triggers and actions sub-resources are in sub-resources.ts. Every write goes
 * through the TrustPager ⇄ core translation (translate.ts) and the same flow writes as the native API.
 */

/** Where app.ts mounts trustpagerRouter; its paths are relative to it. */
export const TP_BASE = "/api/v1/automations";
const TAGS = [TRUSTPAGER_TAG];
const IdParams = z.object({ id: IdParam("id").openapi({ description: "The automation's id (the engine's flow id)" }) });

const list = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "trustpagerListAutomations",
  tags: TAGS,
  summary: "List all automations for the company",
  description: `Newest first; \`limit\` (at most ${LIMITS.MAX_PAGE_SIZE}, default ${LIMITS.DEFAULT_PAGE_SIZE}) and \`offset\` page through them.`,
  request: { query: TpListQuery },
  responses: { 200: jsonResponse(TpAutomationListSchema, "Automations and their total"), ...errorResponses(400) },
});

const get = scopedRoute("automations:read", {
  method: "get",
  path: `/{id}`,
  operationId: "trustpagerGetAutomation",
  tags: TAGS,
  summary: "Retrieve an automation with its triggers and actions",
  request: { params: IdParams },
  responses: { 200: jsonResponse(TpAutomationSchema, "The automation"), ...errorResponses(404) },
});

const create = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "trustpagerCreateAutomation",
  tags: TAGS,
  summary: "Create a new automation",
  description:
    "`name` and `trigger_type` are required. For stage_changed, pass `stage_id` on the automation (trigger rows for " +
    'stage_changed are refused). trigger_type "form_submitted" is deprecated and rejected: use "form_completed".',
  request: jsonBody(TpAutomationCreateSchema),
  responses: { 201: jsonResponse(TpAutomationSchema, "The created automation"), ...errorResponses(400) },
});

const patch = scopedRoute("automations:write", {
  method: "patch",
  path: `/{id}`,
  operationId: "trustpagerUpdateAutomation",
  tags: TAGS,
  summary: "Update an automation (partial); conditions: null removes all conditions",
  request: { params: IdParams, ...jsonBody(TpAutomationPatchSchema) },
  responses: { 200: jsonResponse(TpAutomationSchema, "The updated automation"), ...errorResponses(400, 404, 409) },
});

const del = scopedRoute("automations:write", {
  method: "delete",
  path: `/{id}`,
  operationId: "trustpagerDeleteAutomation",
  tags: TAGS,
  summary: "Delete an automation and all its triggers/actions",
  request: { params: IdParams },
  responses: { 200: jsonResponse(TpDeletedSchema, "Deleted"), ...errorResponses(404) },
});

const toggle = (enable: boolean) =>
  scopedRoute("automations:write", {
    method: "post",
    path: `/{id}/${enable ? "enable" : "disable"}`,
    operationId: enable ? "trustpagerEnableAutomation" : "trustpagerDisableAutomation",
    tags: TAGS,
    summary: enable ? "Enable an automation" : "Disable an automation",
    request: { params: IdParams },
    responses: { 200: jsonResponse(TpAutomationSchema, "The automation"), ...errorResponses(404) },
  });

const trigger = triggerRoute("automations:trigger", {
  method: "post",
  path: `/{id}/trigger`,
  operationId: "trustpagerTriggerAutomation",
  tags: TAGS,
  summary: "Manually trigger an automation with optional test data; answers the normalized run with inline action_results[]",
  description: `Answers once the run settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms with status running. 409 when the automation is disabled.`,
  request: { params: IdParams, ...jsonBody(TpTriggerBody, false) },
  responses: { 200: jsonResponse(TpRunSchema, "The run"), ...errorResponses(400, 404, 409) },
});

const runs = scopedRoute("automations:read", {
  method: "get",
  path: `/{id}/runs`,
  operationId: "trustpagerListRuns",
  tags: TAGS,
  summary: "List execution runs (status completed, failed, running or skipped), newest first",
  description: '"skipped": the conditions were evaluated but not met; no action ran.',
  request: { params: IdParams, query: RunsQuery },
  responses: { 200: jsonResponse(TpRunListSchema, "Runs"), ...errorResponses(400, 404) },
});

const run = scopedRoute("automations:read", {
  method: "get",
  path: `/runs/{runId}`,
  operationId: "trustpagerGetRun",
  tags: TAGS,
  summary: "Details of a run: counts, action_results[] (action_type, status, request, response, error, duration_ms), truncated",
  request: { params: z.object({ runId: IdParam("runId") }) },
  responses: { 200: jsonResponse(TpRunSchema, "The run"), ...errorResponses(404) },
});

const execute = triggerRoute("automations:write", {
  method: "post",
  path: `/{id}/actions/{actionId}/execute`,
  operationId: "trustpagerExecuteAction",
  tags: TAGS,
  summary: "Execute a single action in isolation, skipping all other actions; answers the run",
  description:
    "Through the full executor pipeline (templates, retries). The document lists the automations:write scope (its text " +
    `also mentions a trigger scope); automations:write is required. Answers once the run settles, or after ${LIMITS.MAX_SYNC_WAIT_MS} ms.`,
  request: {
    params: z.object({ id: IdParam("id"), actionId: IdParam("actionId") }),
    ...jsonBody(TpTriggerBody, false),
  },
  responses: { 200: jsonResponse(TpRunSchema, "The run"), ...errorResponses(400, 404) },
});

type RunView = Awaited<ReturnType<typeof triggerRun>>;
const asTpRun = (r: RunView) => asResponse(TpRunSchema, { ...r, automation_id: r.flow_id });

export const trustpagerRouter = createRouter()
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = await listFlows(c.env, c.get("principal").orgId, {}, q.limit ?? LIMITS.DEFAULT_PAGE_SIZE, q.offset ?? 0);
    return c.json(asResponse(TpAutomationListSchema, { data: page.results.map(present), total: page.total }), 200);
  })
  .openapi(create, async (c) => {
    const b = c.req.valid("json");
    const created = await createAutomation(c.env, c.get("principal"), {
      name: b.name,
      description: b.description ?? null,
      trigger_type: b.trigger_type as TpTriggerType,
      stage_id: b.trigger_type === "stage_changed" ? (b.stage_id ?? null) : null,
      stage_module: b.stage_module ?? null,
      conditions: b.conditions ?? null,
      enabled: b.enabled ?? true,
      triggers: [],
      actions: [],
    });
    return c.json(asResponse(TpAutomationSchema, created), 201);
  })
  // Before /{id}: "runs" is not an automation id.
  .openapi(run, async (c) => {
    const { run } = await getRun(c.env, c.get("principal").orgId, c.req.valid("param").runId);
    return c.json(asTpRun(run), 200);
  })
  .openapi(get, async (c) => {
    const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").id, NOUN);
    return c.json(asResponse(TpAutomationSchema, present(flow)), 200);
  })
  .openapi(patch, async (c) => {
    const b = c.req.valid("json");
    const saved = await mutate(c.env, c.get("principal"), c.req.valid("param").id, (m) => {
      const trigger_type = (b.trigger_type as TpTriggerType | undefined) ?? m.trigger_type;
      const stage_id = b.stage_id !== undefined ? b.stage_id : m.stage_id;
      return {
        ...m,
        name: b.name ?? m.name,
        description: b.description !== undefined ? b.description : m.description,
        trigger_type,
        stage_id: trigger_type === "stage_changed" ? stage_id : null,
        stage_module: b.stage_module ?? m.stage_module,
        conditions: b.conditions !== undefined ? b.conditions : m.conditions,
        enabled: b.enabled ?? m.enabled,
      };
    });
    return c.json(asResponse(TpAutomationSchema, saved), 200);
  })
  .openapi(del, async (c) => {
    const { id } = c.req.valid("param");
    await removeFlow(c.env, c.get("principal").orgId, id, NOUN);
    return c.json({ id, deleted: true as const }, 200);
  })
  .openapi(toggle(true), async (c) => {
    const flow = await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").id, true, NOUN);
    return c.json(asResponse(TpAutomationSchema, present(flow)), 200);
  })
  .openapi(toggle(false), async (c) => {
    const flow = await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").id, false, NOUN);
    return c.json(asResponse(TpAutomationSchema, present(flow)), 200);
  })
  .openapi(trigger, async (c) => {
    const run = await triggerRun(c.env, c.get("principal"), c.req.valid("param").id, c.req.valid("json") ?? {});
    return c.json(asTpRun(run), 200);
  })
  .openapi(runs, async (c) => {
    const orgId = c.get("principal").orgId;
    const { id } = c.req.valid("param");
    await requireFlow(c.env, orgId, id, NOUN);
    const page = await listFlowRuns(c.env, orgId, id, c.req.valid("query"));
    const data = page.results.map((r) => ({ ...runFromRow(r), automation_id: r.flow_id }));
    return c.json(asResponse(TpRunListSchema, { data, total: page.total }), 200);
  })
  .openapi(execute, async (c) => {
    const p = c.get("principal");
    const { id, actionId } = c.req.valid("param");
    const flow = await requireFlow(c.env, p.orgId, id, NOUN);
    if (!flow.actions.some((a) => a.id === actionId)) throw notFound("Action");
    return c.json(asTpRun(await executeSingleAction(c.env, p, flow, actionId, c.req.valid("json") ?? {})), 200);
  })
  .route("/", subResourcesRouter);
