import type { z } from "@hono/zod-openapi";
import { SIGNATURE_HEADERS, replayableSignatureHeader, type WebhookProvider } from "../engine/webhook-signatures";
import type { Env } from "../env";
import { sha256Hex, sha256HexOf, timingSafeEqual } from "../lib/crypto";
import { splitTokenPath } from "../lib/webhook-tokens";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { WebhookEventSchema } from "../schemas/events";
import type { FlowTrigger } from "../schemas/triggers";
import type { WebhookTarget } from "../store/flows";
import { cachedWebhookTarget } from "../store/flow-cache";
import { claimDelivery } from "../store/webhook-deliveries";
import { enqueueEvent } from "./event-queue";
import { verifyWebhookCall } from "./webhook-secrets";

/**
 * An inbound webhook call becomes one `webhook` event on the events queue; the events consumer starts the
 * execution. The event id is derived from the sender's delivery id, so a redelivery is the same event and
 * starts nothing twice.
 */

type WebhookEvent = z.infer<typeof WebhookEventSchema>;
type WebhookTrigger = Extract<FlowTrigger, { type: "webhook" }>;

/** Headers never shown to templates: credentials, and the signatures (already verified). */
const HIDDEN_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "x-key", "x-api-key", ...SIGNATURE_HEADERS]);
const JSON_TYPE = /^application\/([\w.+-]+\+)?json$/;
const FORM_TYPE = "application/x-www-form-urlencoded";

export interface InboundWebhook {
  flowId: string;
  path: string;
  headers: Headers;
  query: URLSearchParams;
  /** Read only once the URL names an enabled webhook trigger. */
  readBody: () => Promise<Uint8Array>;
  now: number;
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

/** The URL's last segment: a trigger's path, or a path and its URL token (at most 100 + 1 + 64 characters). */
const URL_PATH_PATTERN = /^[A-Za-z0-9._-]{1,165}$/;

/**
 * The webhook trigger a URL path names: one whose path is the whole segment and that needs no token, or one whose
 * path is the part before the last dot and whose stored token hash matches what follows it (compared in constant
 * time). Null otherwise: a token trigger called without its token, or with another, is not found.
 */
async function triggerOfPath(target: WebhookTarget, path: string): Promise<WebhookTrigger | null> {
  const webhooks = target.flow.triggers.filter((t): t is WebhookTrigger => t.type === "webhook");
  const plain = webhooks.find((t) => t.configuration.path === path && !t.configuration.token_configured);
  if (plain) return plain;
  const split = splitTokenPath(path);
  if (!split) return null;
  const hash = await sha256Hex(split.token);
  for (const t of webhooks) {
    if (t.configuration.path !== split.path || !t.configuration.token_configured) continue;
    const stored = target.tokens.find((row) => row.owner === t.id);
    if (stored && timingSafeEqual(hash, stored.token_hash)) return t;
  }
  return null;
}

/**
 * Checks the call (404 unknown URL, 410 disabled flow, 401 signature, 400 malformed JSON, 413 event too large)
 * and queues its event. Returns the event id.
 */
export async function receiveWebhook(env: Env, call: InboundWebhook): Promise<string> {
  const { flowId, path, headers, now } = call;
  const target =
    URL_PATH_PATTERN.test(path) && flowId.length <= 100 ? await cachedWebhookTarget(env, flowId, isoNow(now), now) : null;
  const flow = target?.flow;
  const trigger = target ? await triggerOfPath(target, path) : null;
  if (!target || !flow || !trigger) throw new AppError(404, "NOT_FOUND", "No webhook at this URL");
  // Gone rather than not found, so a sender that honours 410 (as Standard Webhooks senders do) stops.
  if (!flow.enabled) throw new AppError(410, "FLOW_DISABLED", "The flow of this webhook is disabled");

  const raw = await call.readBody();
  const { signed } = await verifyWebhookCall(env, target, trigger, headers, raw, now);

  const contentType = (headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = parseBody(contentType, raw);
  const shown: Record<string, string> = {};
  for (const [k, v] of headers) if (!HIDDEN_HEADERS.has(k)) shown[k] = v;
  const event: WebhookEvent = {
    id: `wh:${flow.id}:${await deliveryKey(trigger.configuration.provider, headers, body)}`,
    org_id: flow.org_id,
    at: isoNow(now),
    depth: 0,
    type: "webhook",
    flow_id: flow.id,
    trigger_id: trigger.id,
    // The trigger's path, never the URL's: a URL token is a credential and the event is stored and shown.
    path: trigger.configuration.path,
    body,
    query: firstValues(call.query),
    headers: shown,
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
  // A scheme that signs no timestamp: the same signature and body under a new delivery id is a replay.
  const signatureHeader = signed ? replayableSignatureHeader(trigger.configuration.provider) : null;
  if (signatureHeader) {
    const digest = await sha256HexOf(`${headers.get(signatureHeader) ?? ""}\n`, raw);
    const owner = await claimDelivery(env.DB, {
      flowId: flow.id,
      orgId: flow.org_id,
      digest,
      eventId: event.id,
      at: now,
      notBefore: now - LIMITS.WEBHOOK_REPLAY_WINDOW_MS,
    });
    // Answered like the first call (same event id), so a sender retrying learns nothing; nothing is queued.
    if (owner !== event.id) return owner;
  }
  await enqueueEvent(env, event);
  return event.id;
}
