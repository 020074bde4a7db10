import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { SIGNATURE_HEADERS, verifyWebhookSignature, type WebhookProvider } from "../engine/webhook-signatures";
import type { Env } from "../env";
import { sha256Hex } from "../lib/crypto";
import { AppError, errorBody } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { SecretError, blobKeyId, decryptSecret, needsReencryption, reencryptSecret } from "../lib/secrets";
import { isoNow } from "../lib/time";
import { ErrorSchema } from "../schemas/common";
import type { WebhookEventSchema } from "../schemas/events";
import { WEBHOOK_PATH_PATTERN, type FlowTrigger } from "../schemas/triggers";
import { flowSecretAad, updateFlowSecretCiphertext } from "../store/flow-secrets";
import { getWebhookTarget, type WebhookTarget } from "../store/flows";
import { enqueueEvent } from "../services/event-queue";
import { createRouter, errorResponses, publicRoute } from "./router";

/**
 * Inbound webhooks: `POST /v1/webhooks/{flow_id}/{path}` authenticates by the trigger's signing secret
 * (no API key), enqueues one `webhook` event and answers 202 at once; the events consumer starts the
 * execution. The event id is derived from the sender's delivery id, so a redelivery is the same event
 * and starts nothing twice.
 */

type WebhookEvent = z.infer<typeof WebhookEventSchema>;
type WebhookTrigger = Extract<FlowTrigger, { type: "webhook" }>;

/** Headers never shown to templates: credentials, and the signatures (already verified). */
const HIDDEN_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "x-key", "x-api-key", ...SIGNATURE_HEADERS]);
const JSON_TYPE = /^application\/([\w.+-]+\+)?json$/;
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

const receiveRoute = publicRoute({
  method: "post",
  path: "/v1/webhooks/{flow_id}/{path}",
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
    202: { description: "The event is queued", content: { "application/json": { schema: AcceptedSchema } } },
    ...errorResponses(400, 401, 404, 413, 429),
    410: { description: "The flow is disabled", content: { "application/json": { schema: ErrorSchema } } },
    503: { description: "The signing secret cannot be decrypted", content: { "application/json": { schema: ErrorSchema } } },
  },
});

/**
 * The trigger's current secret and those replaced less than the overlap window ago. Fails closed when the
 * current one cannot be decrypted; re-seals it with the current key after an ENCRYPTION_KEY rotation.
 */
async function signingSecrets(env: Env, target: WebhookTarget, triggerId: string): Promise<string[]> {
  const { flow } = target;
  const aad = flowSecretAad(flow.org_id, flow.id, triggerId);
  const row = target.secrets.find((s) => s.owner === triggerId);
  let current: string | null = null;
  if (row) {
    try {
      current = await decryptSecret(env, row.ciphertext, aad);
    } catch (err) {
      if (err instanceof SecretError)
        throw new AppError(503, "SECRET_UNAVAILABLE", "The webhook's signing secret cannot be read");
      throw err;
    }
    if (needsReencryption(env, row.ciphertext)) {
      const blob = await reencryptSecret(env, row.ciphertext, aad);
      await updateFlowSecretCiphertext(env.DB, flow.org_id, flow.id, triggerId, blobKeyId(blob), blob);
    }
  }
  const retired = target.retired.filter((r) => r.owner === triggerId);
  const older = await Promise.all(retired.map((r) => decryptSecret(env, r.ciphertext, aad).catch(() => null)));
  return [current, ...older].filter((s): s is string => typeof s === "string");
}

/** JSON (400 when malformed), form fields (a repeated field becomes an array), else text; empty is null. */
function parseBody(contentType: string, raw: Uint8Array): unknown {
  if (raw.byteLength === 0) return null;
  const text = new TextDecoder().decode(raw);
  if (JSON_TYPE.test(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new AppError(400, "MALFORMED_JSON", `The body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (contentType === FORM_TYPE) {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  return text;
}

/** The sender's delivery id for deduplication, by provider, then Idempotency-Key; random when there is none. */
async function deliveryKey(provider: WebhookProvider, headers: Headers, body: unknown): Promise<string> {
  const stripeId = provider === "stripe" && body && typeof body === "object" ? (body as { id?: unknown }).id : undefined;
  const candidates = [
    provider === "standard" ? headers.get("webhook-id") : null,
    provider === "github" ? headers.get("x-github-delivery") : null,
    typeof stripeId === "string" ? stripeId : null,
    headers.get("idempotency-key"),
  ];
  const key = candidates.find((k): k is string => typeof k === "string" && k.length > 0);
  if (!key) return crypto.randomUUID();
  return key.length > LIMITS.MAX_WEBHOOK_DELIVERY_ID_LENGTH ? `sha256:${await sha256Hex(key)}` : key;
}

function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

export const webhooksRouter = createRouter();

webhooksRouter.use(
  "/v1/webhooks/*",
  bodyLimit({
    maxSize: LIMITS.MAX_WEBHOOK_BODY_BYTES,
    onError: (c) =>
      c.json(errorBody("PAYLOAD_TOO_LARGE", `A webhook body may be at most ${LIMITS.MAX_WEBHOOK_BODY_BYTES} bytes`), 413),
  }),
);

webhooksRouter.openapi(receiveRoute, async (c) => {
  const { flow_id, path } = c.req.valid("param");
  const now = Date.now();
  const target =
    WEBHOOK_PATH_PATTERN.test(path) && flow_id.length <= 100 ? await getWebhookTarget(c.env.DB, flow_id, isoNow(now)) : null;
  const flow = target?.flow;
  const trigger = flow?.triggers.find((t): t is WebhookTrigger => t.type === "webhook" && t.configuration.path === path);
  if (!target || !flow || !trigger) throw new AppError(404, "NOT_FOUND", "No webhook at this URL");
  // Gone rather than not found, so a sender that honours 410 (as Standard Webhooks senders do) stops.
  if (!flow.enabled) throw new AppError(410, "FLOW_DISABLED", "The flow of this webhook is disabled");

  const raw = new Uint8Array(await c.req.arrayBuffer());
  const cfg = trigger.configuration;
  const secrets = await signingSecrets(c.env, target, trigger.id);
  if (secrets.length > 0) {
    const verdict = await verifyWebhookSignature(cfg.provider, secrets, c.req.raw.headers, raw, now);
    if (!verdict.ok)
      throw new AppError(401, "INVALID_SIGNATURE", verdict.message, [{ message: verdict.message, code: verdict.reason }]);
  } else if (!cfg.allow_unsigned) {
    throw new AppError(401, "INVALID_SIGNATURE", "This webhook has no signing secret and does not accept unsigned calls");
  }

  const contentType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = parseBody(contentType, raw);
  const headers: Record<string, string> = {};
  for (const [k, v] of c.req.raw.headers) if (!HIDDEN_HEADERS.has(k)) headers[k] = v;
  const event: WebhookEvent = {
    id: `wh:${flow.id}:${await deliveryKey(cfg.provider, c.req.raw.headers, body)}`,
    org_id: flow.org_id,
    at: isoNow(now),
    depth: 0,
    type: "webhook",
    flow_id: flow.id,
    trigger_id: trigger.id,
    path,
    body,
    query: firstValues(new URL(c.req.url).searchParams),
    headers,
    ...(contentType ? { content_type: contentType } : {}),
  };
  const size = new TextEncoder().encode(JSON.stringify(event)).byteLength;
  if (size > LIMITS.MAX_WEBHOOK_EVENT_BYTES) {
    throw new AppError(
      413,
      "PAYLOAD_TOO_LARGE",
      `The webhook event (body, query and headers) is ${size} bytes; the limit is ${LIMITS.MAX_WEBHOOK_EVENT_BYTES}`,
    );
  }
  await enqueueEvent(c.env, event);
  return c.json({ event_id: event.id, status: "accepted" as const }, 202);
});
