import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../api/context";
import { createRouter, triggerRoute, jsonBody, jsonResponse } from "../../api/router";
import { isoNow } from "../../lib/time";
import { ExecuteRequest } from "../../schemas/integrations";
import { unifiedExecute } from "../../services/unified-execute";
import { PLURA_TAG, PluraEnvelopeSchema, PluraErrorEnvelopeSchema, type PluraEnvelope } from "./schemas";
import { pluraLens } from "./translate";

/**
 * The Plura dialect (seed 000): `POST /api/automation/execute`, the document's own path, answering its envelope
 * every time. The work is the engine's unified execute (services/unified-execute.ts), the same one behind
 * `POST /v1/automation/execute`; this module only adds the envelope around refusals.
 */

/** Where app.ts mounts pluraRouter (its route is relative to it) and the envelope middleware. */
export const PLURA_EXECUTE_PATH = "/api/automation/execute";

const refusal = (description: string) =>
  jsonResponse(PluraErrorEnvelopeSchema, `${description}; the envelope with \`success: false\``);

const executeRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "pluraExecute",
  tags: [PLURA_TAG],
  summary: "Execute one action of any integration (Plura's POST /automation/execute)",
  description:
    "Plura's unified endpoint: `automationType` names the integration (or `core`), `nodeParams.action` the action and " +
    "`nodeParams.params` its parameters; `customFields` resolve from `callData.fields`. `Authorization: Bearer <JWT>` " +
    "acts as the token's user; `x-key` is the superuser and may act for any `userId`. Every answer is the envelope: " +
    "a vendor failure is 200 with `success: false`, a refused request its 4xx status with `success: false`, " +
    "`error` (the message) and `metadata.code` / `metadata.details`.",
  request: jsonBody(ExecuteRequest),
  responses: {
    200: jsonResponse(PluraEnvelopeSchema, "The envelope; `success: false` carries the vendor's error"),
    400: refusal("Malformed JSON or invalid input (each bad field in `metadata.details`)"),
    401: refusal("Missing or invalid credentials"),
    403: refusal("The credentials lack automations:trigger, or a non-superuser named another userId"),
    404: refusal("Unknown integration, action or connection"),
    413: refusal("Request body too large"),
    415: refusal("Request body is not JSON"),
    429: refusal("Too many requests"),
  },
});

export const pluraRouter = createRouter().openapi(executeRoute, async (c) => {
  const started = Date.now();
  const body = pluraLens.write(c.req.valid("json"));
  const envelope = await unifiedExecute(c.env, c.get("principal"), body, c.get("requestId"), started);
  return c.json(envelope, 200);
});

interface ErrorLike {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** `nodeId` / `automationType` of the request, when it is JSON that names them (echoed in a refusal's envelope). */
async function echoOf(c: Parameters<MiddlewareHandler<AppEnv>>[0], status: number) {
  // A body over the limit or of another type is never read again.
  if (status === 413 || status === 415) return { nodeId: null, automationType: null };
  try {
    const body = (await c.req.json()) as { nodeId?: unknown; automationType?: unknown } | null;
    return {
      nodeId: typeof body?.nodeId === "string" ? body.nodeId : null,
      automationType: typeof body?.automationType === "string" ? body.automationType : null,
    };
  } catch {
    return { nodeId: null, automationType: null };
  }
}

/**
 * Wraps every refusal on Plura's path (raised by the shared pipeline: auth, scope, rate limit, body limit, JSON
 * type, validation; or by the handler) into the envelope, keeping the status and headers (Retry-After, Allow).
 * Registered in app.ts before the pipeline, so it sees the rendered error of any later step.
 */
export const pluraEnvelope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  await next();
  const res = c.res;
  if (res.status < 400) return;
  const parsed = (await res
    .clone()
    .json()
    .catch(() => null)) as ErrorLike | null;
  const err = parsed?.error;
  const envelope: PluraEnvelope = {
    requestId: c.get("requestId"),
    ...(await echoOf(c, res.status)),
    success: false,
    data: null,
    error: typeof err?.message === "string" ? err.message : `Request failed with status ${res.status}`,
    metadata: {
      code: typeof err?.code === "string" ? err.code : "HTTP_ERROR",
      details: Array.isArray(err?.details) ? err.details : [],
    },
    timestamp: isoNow(),
    duration: Date.now() - started,
  };
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  c.res = undefined;
  c.res = new Response(JSON.stringify(envelope), { status: res.status, headers });
};
