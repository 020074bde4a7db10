import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { ErrorSchema, IdParam } from "../schemas/common";
import {
  AutomationFlowInputSchema,
  AutomationFlowSchema,
  BatchGetFlowsBody,
  DeleteFlowResponse,
  SearchAutomationsRespSchema,
  SearchFlowsQuery,
} from "../schemas/flow";
import { createFlow, removeFlow, requireFlow, setFlowEnabledBy, updateFlow } from "../services/flows";
import { getFlowsByIds, searchFlows } from "../store/flows";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";
import { withPlan } from "./flow-plans";

const TAGS = ["flows"];
const FlowParams = z.object({ flow_id: IdParam("flow_id").openapi({ description: "Automation Workflow ID" }) });
const flowBody = jsonBody(AutomationFlowInputSchema, true, "Automation flow to create or store");
const flowResponse = (description: string) => jsonResponse(AutomationFlowSchema, description);
const encryptionUnavailable = {
  503: jsonResponse(ErrorSchema, "A secret was sent but the server has no ENCRYPTION_KEY to store it with"),
};
const LIMITS_NOTE =
  `Limits: at most ${LIMITS.MAX_TRIGGERS_PER_FLOW} triggers, ${LIMITS.MAX_ACTIONS_PER_FLOW} actions, ` +
  `${LIMITS.MAX_CONDITIONS_PER_FLOW} conditions / schedules / trigger conditions and ${LIMITS.MAX_LOOPS_PER_FLOW} loops per flow; ` +
  `names up to ${LIMITS.MAX_NAME_LENGTH} characters; a request body up to ${LIMITS.MAX_REQUEST_BODY_BYTES} bytes (413 above) ` +
  `and a stored flow document up to ${LIMITS.MAX_FLOW_BYTES} bytes (413 FLOW_TOO_LARGE above).`;

const searchRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/flows",
  operationId: "searchFlows",
  tags: TAGS,
  summary: "searchFlows",
  description: `Search the organization's automation flows, newest first. Page size at most ${LIMITS.MAX_PAGE_SIZE}.`,
  request: { query: SearchFlowsQuery },
  responses: {
    200: jsonResponse(SearchAutomationsRespSchema, "List of automation flows, including total count"),
    ...errorResponses(400, 401, 403),
  },
});

const createRoute = scopedRoute("automations:write", {
  method: "post",
  path: "/flows",
  operationId: "createFlow",
  tags: TAGS,
  summary: "createFlow",
  description: `Create a new automation flow. ${LIMITS_NOTE}`,
  request: flowBody,
  responses: {
    201: flowResponse("The created automation flow"),
    ...errorResponses(400, 401, 403, 413, 415),
    ...encryptionUnavailable,
  },
});

const batchGetRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/flows:batchGet",
  operationId: "batchGetFlows",
  tags: TAGS,
  summary: "batchGetFlows",
  description: `Get up to ${LIMITS.MAX_BATCH_GET} flows by id, in the order asked; unknown ids are left out.`,
  request: jsonBody(BatchGetFlowsBody),
  responses: {
    200: jsonResponse(SearchAutomationsRespSchema, "List of automation flows"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/flows/{flow_id}",
  operationId: "getFlow",
  tags: TAGS,
  summary: "getFlow",
  description: "Get one automation flow",
  request: { params: FlowParams },
  responses: { 200: flowResponse("The returned automation flow"), ...errorResponses(401, 403, 404) },
});

const putRoute = scopedRoute("automations:write", {
  method: "put",
  path: "/flows/{flow_id}",
  operationId: "putFlow",
  tags: TAGS,
  summary: "putFlow",
  description:
    "Replace an automation flow; its version goes up by one. Trigger and action ids sent are kept, missing ones are " +
    "assigned. Secrets omitted are kept, `null` removes them. `enabled` omitted keeps the current state. " +
    `409 when the flow changed concurrently. ${LIMITS_NOTE}`,
  request: { params: FlowParams, ...flowBody },
  responses: {
    200: flowResponse("The updated automation flow"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    ...encryptionUnavailable,
  },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/flows/{flow_id}",
  operationId: "deleteFlow",
  tags: TAGS,
  summary: "deleteFlow",
  description: "Delete an automation flow with its trigger index and secrets. Executions already started keep running.",
  request: { params: FlowParams },
  responses: {
    200: jsonResponse(DeleteFlowResponse, "Flow deleted successfully"),
    ...errorResponses(401, 403, 404),
  },
});

const toggleRoute = (enable: boolean) =>
  scopedRoute("automations:write", {
    method: "post",
    path: `/flows/{flow_id}/${enable ? "enable" : "disable"}`,
    operationId: enable ? "enableFlow" : "disableFlow",
    tags: TAGS,
    summary: enable ? "enableFlow" : "disableFlow",
    description: enable
      ? "Enable a flow: clears disable_details and the consecutive failure count (also after the circuit breaker stopped it)."
      : 'Disable a flow: it stops matching triggers; disable_details records `disabled_by: "user"`.',
    request: { params: FlowParams },
    responses: { 200: flowResponse(enable ? "The enabled flow" : "The disabled flow"), ...errorResponses(401, 403, 404) },
  });

export const flowsRouter = createRouter()
  .openapi(searchRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await searchFlows(
      c.env.DB,
      c.get("principal").orgId,
      {
        schema: q.schema,
        trigger_source_id: q.trigger_source_id,
        target_workflow: q.target_workflow,
        include_flows: q.include_flows === "true",
        enabled: q.enabled === undefined ? undefined : q.enabled === "true",
        trigger_type: q.trigger_type,
      },
      q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      q.from ?? 0,
    );
    return c.json({ ...page, results: page.results.map(withPlan) }, 200);
  })
  .openapi(createRoute, async (c) => c.json(withPlan(await createFlow(c.env, c.get("principal"), c.req.valid("json"))), 201))
  .openapi(batchGetRoute, async (c) => {
    const results = await getFlowsByIds(c.env.DB, c.get("principal").orgId, c.req.valid("json").ids);
    return c.json({ total: results.length, results: results.map(withPlan) }, 200);
  })
  .openapi(getRoute, async (c) =>
    c.json(withPlan(await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").flow_id)), 200),
  )
  .openapi(putRoute, async (c) => {
    const principal = c.get("principal");
    const existing = await requireFlow(c.env, principal.orgId, c.req.valid("param").flow_id);
    return c.json(withPlan(await updateFlow(c.env, principal, existing, c.req.valid("json"))), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const { flow_id } = c.req.valid("param");
    await removeFlow(c.env, c.get("principal").orgId, flow_id);
    return c.json({ id: flow_id, deleted: true as const }, 200);
  })
  .openapi(toggleRoute(true), async (c) =>
    c.json(withPlan(await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").flow_id, true)), 200),
  )
  .openapi(toggleRoute(false), async (c) =>
    c.json(withPlan(await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").flow_id, false)), 200),
  );
