import { z } from "@hono/zod-openapi";
import { IdParam } from "../schemas/common";
import { FlowQueueSchema } from "../schemas/flow-control";
import { flowQueue } from "../services/flow-control";
import { requireFlow } from "../services/flows";
import { createRouter, errorResponses, jsonResponse, scopedRoute } from "./router";

/** `GET /v1/automation/flows/{flow_id}/queue`: what is running and waiting under the flow's flow control (docs/flow-control.md). */

const queueRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/flows/{flow_id}/queue",
  operationId: "getFlowQueue",
  tags: ["flows"],
  summary: "getFlowQueue",
  description:
    "Running and waiting starts of the flow per concurrency or singleton key, the oldest waiting start's age, the next " +
    "throttle slot, and the debounce or batch groups collecting events.",
  request: { params: z.object({ flow_id: IdParam("flow_id") }) },
  responses: { 200: jsonResponse(FlowQueueSchema, "The flow's queue"), ...errorResponses(401, 403, 404) },
});

export const flowQueueRouter = createRouter().openapi(queueRoute, async (c) => {
  const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").flow_id);
  return c.json(await flowQueue(c.env, flow), 200);
});
