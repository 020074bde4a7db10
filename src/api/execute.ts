import { ExecuteRequest, ExecuteResponseSchema } from "../schemas/integrations";
import { unifiedExecute } from "../services/unified-execute";
import { createRouter, errorResponses, triggerRoute, jsonBody, jsonResponse } from "./router";

/**
 * Plura's unified execute (seed 000) in the engine's own namespace: the work is services/unified-execute.ts (shared
 * with the Plura dialect's `POST /api/automation/execute`). A vendor failure answers 200 with `success: false`;
 * bad input answers 4xx with the common error body.
 */

const executeRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "executeAutomation",
  tags: ["Integrations"],
  summary: "Run one action of any integration (Plura's unified execute)",
  request: jsonBody(ExecuteRequest),
  responses: {
    200: jsonResponse(ExecuteResponseSchema, "The envelope; `success: false` carries the vendor's error"),
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

export const executeRouter = createRouter().openapi(executeRoute, async (c) => {
  const started = Date.now();
  const envelope = await unifiedExecute(c.env, c.get("principal"), c.req.valid("json"), c.get("requestId"), started);
  return c.json(envelope, 200);
});
