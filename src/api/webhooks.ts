import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { errorBody } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { ErrorSchema } from "../schemas/common";
import { receiveWebhook } from "../services/inbound-webhooks";
import { createRouter, errorResponses, jsonResponse, webhookRoute } from "./router";
import { webhookRateLimit } from "./rate-limit";

/**
 * Inbound webhooks: `POST /v1/webhooks/{flow_id}/{path}` (mounted at /v1/webhooks) authenticates by the
 * trigger's signing secret (no API key, so the route is public by its definition), and answers 202 once
 * services/inbound-webhooks.ts has queued the event.
 */

const FORM_TYPE = "application/x-www-form-urlencoded";

const Params = z.object({
  flow_id: z.string().openapi({ param: { name: "flow_id", in: "path" }, description: "The flow's id" }),
  path: z.string().openapi({ param: { name: "path", in: "path" }, description: "The webhook trigger's `path`" }),
});

const AcceptedSchema = z
  .object({
    event_id: z.string().openapi({ example: "wh:8c0e…:msg_p5jXN8AQM9LWM0D4loKWxJek" }),
    status: z.literal("accepted"),
  })
  .openapi("WebhookAccepted");

/** Any JSON value (senders may post objects, arrays or scalars); form bodies become an object. */
const anyBody = { schema: { description: "Any JSON value" } };

const receiveRoute = webhookRoute({
  method: "post",
  path: "/{flow_id}/{path}",
  operationId: "receiveWebhook",
  tags: ["webhooks"],
  summary: "receiveWebhook",
  description:
    "Delivers a call to a flow's `webhook` trigger. Authenticated by the trigger's signing secret, by its `provider`: " +
    "`standard` (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), `stripe` " +
    "(`Stripe-Signature: t=…,v1=…`) or `github` (`X-Hub-Signature-256: sha256=…`). Timestamps may be " +
    `${LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS} s away from the server's clock. Answers 202 once the event is queued; ` +
    "a repeated delivery id (`webhook-id`, `X-GitHub-Delivery`, the Stripe event id, else `Idempotency-Key`) is the same " +
    "event and starts one execution. JSON bodies are parsed (400 when malformed), form bodies become an object, anything " +
    `else is text; at most ${LIMITS.MAX_WEBHOOK_BODY_BYTES} bytes (413). Templates see \`trigger.body\`, \`trigger.query\` ` +
    "and `trigger.headers` (without credentials and signatures).",
  request: {
    params: Params,
    body: {
      content: { "application/json": anyBody, [FORM_TYPE]: anyBody, "text/plain": { schema: { type: "string" as const } } },
    },
  },
  responses: {
    202: jsonResponse(AcceptedSchema, "The event is queued"),
    ...errorResponses(400, 401, 404, 413, 429),
    410: jsonResponse(ErrorSchema, "The flow is disabled"),
    503: jsonResponse(ErrorSchema, "The signing secret cannot be decrypted"),
  },
});

export const webhooksRouter = createRouter();

// Mounted at /v1/webhooks (app.ts): "*" is this router's own paths. Rate limit first, then the tighter body cap.
webhooksRouter.use("*", webhookRateLimit);
webhooksRouter.use(
  "*",
  bodyLimit({
    maxSize: LIMITS.MAX_WEBHOOK_BODY_BYTES,
    onError: (c) =>
      c.json(errorBody("PAYLOAD_TOO_LARGE", `A webhook body may be at most ${LIMITS.MAX_WEBHOOK_BODY_BYTES} bytes`), 413),
  }),
);

webhooksRouter.openapi(receiveRoute, async (c) => {
  const { flow_id, path } = c.req.valid("param");
  const eventId = await receiveWebhook(c.env, {
    flowId: flow_id,
    path,
    headers: c.req.raw.headers,
    query: new URL(c.req.url).searchParams,
    readBody: async () => new Uint8Array(await c.req.arrayBuffer()),
    now: Date.now(),
  });
  return c.json({ event_id: eventId, status: "accepted" as const }, 202);
});
