import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { StoredEventRefSchema, TriggerEvent } from "../schemas/events";
import type { z } from "@hono/zod-openapi";
import { inboxInsertStatement } from "../store/event-inbox";

/** Queue names of the events queue and its dead-letter queue (wrangler.toml). */
export const EVENTS_QUEUE = "automation-events";
export const EVENTS_DLQ = "automation-events-dlq";

/** The message that points at an event in the inbox: for a body too large to travel inline, and for every resend. */
export const eventRef = (e: { id: string; org_id: string; at: string; depth: number }): z.infer<typeof StoredEventRefSchema> => ({
  type: "stored",
  id: e.id,
  org_id: e.org_id,
  at: e.at,
  depth: e.depth,
});

/** When the reconciliation first sends an event that is still unprocessed; each later wait doubles. */
export const EVENT_RESEND_AFTER_MS = 3 * 60_000;
/** Sends of one event (the first and the reconciliation's) before it is given up as dead. */
export const MAX_EVENT_SENDS = 6;

/** When an event sent `sends` times is due to be sent again: 3, 6, 12, 24, 48 minutes after the last send. */
export const nextSendAt = (sends: number, now: number): string =>
  isoNow(now + EVENT_RESEND_AFTER_MS * 2 ** Math.max(0, sends - 1));

/** An event ready to be queued: its inbox write (to run alone or in the batch of the write that caused it), then its send. */
export interface PreparedEvent {
  id: string;
  insert: D1PreparedStatement;
  /** The same insert, guarded on the statement before it in a batch having changed a row. */
  insertIfChanged: D1PreparedStatement;
  send: () => Promise<void>;
}

/**
 * Prepares a trigger event for the events queue. The event is written to the inbox first (D1), so a
 * message that is lost — or a producer that dies before sending it — is sent again by the
 * reconciliation; the consumer marks it done once its executions exist. An event whose JSON is larger
 * than a queue message may be travels as a reference (`type: "stored"`) to its inbox row.
 */
export function prepareEvent(env: Env, event: TriggerEvent, now = Date.now()): PreparedEvent {
  const body = JSON.stringify(event);
  const row = { org_id: event.org_id, id: event.id, body };
  const due = nextSendAt(1, now);
  const insert = inboxInsertStatement(env.DB, row, due, isoNow(now));
  const insertIfChanged = inboxInsertStatement(env.DB, row, due, isoNow(now), true);
  const inline = new TextEncoder().encode(body).length <= LIMITS.MAX_INLINE_EVENT_BYTES;
  const send = async () => {
    await env.EVENTS_QUEUE.send(inline ? event : eventRef(event), { contentType: "json" });
  };
  return { id: event.id, insert, insertIfChanged, send };
}

/** Writes the event to the inbox, then puts it on the events queue. */
export async function enqueueEvent(env: Env, event: TriggerEvent): Promise<void> {
  const prepared = prepareEvent(env, event);
  await prepared.insert.run();
  await prepared.send();
}
