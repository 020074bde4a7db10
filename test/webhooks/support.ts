import { afterEach, beforeEach } from "vitest";
import { signGithub, signStandardWebhook, signStripe } from "../../src/engine/webhook-signatures";
import type { WebhookEventSchema } from "../../src/schemas/events";
import { call } from "../helpers";
import { SINK, createFlow, recordEvents } from "../support/engine";

export type SentEvent = import("zod").infer<typeof WebhookEventSchema>;

export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/**
 * Captures what the Worker sends to the events queue instead of delivering it, so a test decides when
 * the consumer runs (processEvent) and no background consumer touches the sink. Call in a describe/file.
 */
export function captureEvents(): SentEvent[] {
  const sent: SentEvent[] = [];
  let restore = () => {};
  beforeEach(() => {
    sent.length = 0;
    ({ restore } = recordEvents<SentEvent>({ into: sent }));
  });
  afterEach(() => restore());
  return sent;
}

let seq = 0;
/** A path unique in this test run (flows of one file share D1). */
export const uniquePath = (name: string): string => `${name}-${++seq}-${crypto.randomUUID().slice(0, 6)}`;

/** Creates a flow with one webhook trigger (and a call_webhook action to the sink unless `actions` is given). */
export async function webhookFlow(
  configuration: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  org = "org-a",
): Promise<{ id: string; trigger_id: string; path: string; flow: any }> {
  const path = (configuration.path as string | undefined) ?? uniquePath("hook");
  const flow = await createFlow(
    {
      flow_name: `webhook ${path}`,
      triggers: [{ type: "webhook", configuration: { path, ...configuration } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/${path}` } }],
      ...extra,
    },
    org,
  );
  return { id: flow.id, trigger_id: flow.triggers[0].id, path, flow };
}

export interface HookCall {
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  query?: string;
}

/** POSTs to a webhook URL without API credentials. */
export function postHook(flowId: string, path: string, c: HookCall = {}) {
  const headers: Record<string, string> = { "content-type": c.contentType ?? "application/json", ...c.headers };
  return call("POST", `/v1/webhooks/${flowId}/${path}${c.query ?? ""}`, { token: null, rawBody: c.body ?? "", headers });
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Standard Webhooks headers for `body`, signed with `secret`. */
export async function standardHeaders(
  secret: string,
  body: string,
  id: string = `msg_${crypto.randomUUID()}`,
  timestamp: number = nowSeconds(),
): Promise<Record<string, string>> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signStandardWebhook(secret, id, timestamp, body),
  };
}

export async function stripeHeaders(secret: string, body: string, timestamp: number = nowSeconds()) {
  return { "stripe-signature": await signStripe(secret, timestamp, body) };
}

export async function githubHeaders(secret: string, body: string, delivery: string = crypto.randomUUID()) {
  return { "x-hub-signature-256": await signGithub(secret, body), "x-github-delivery": delivery, "x-github-event": "push" };
}
