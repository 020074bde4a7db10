import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import type { TriggerEvent } from "../schemas/events";
import { storeEvent } from "../store/stored-events";

/**
 * Puts a trigger event on the events queue. An event whose JSON is larger than a queue message may
 * be is stored in D1 and the message carries a reference (`type: "stored"`), which the consumer
 * resolves: a large record never loses its event.
 */
export async function enqueueEvent(env: Env, event: TriggerEvent): Promise<void> {
  const body = JSON.stringify(event);
  if (new TextEncoder().encode(body).length <= LIMITS.MAX_INLINE_EVENT_BYTES) {
    await env.EVENTS_QUEUE.send(event, { contentType: "json" });
    return;
  }
  await storeEvent(env.DB, event.id, event.org_id, body);
  await env.EVENTS_QUEUE.send(
    { type: "stored", id: event.id, org_id: event.org_id, at: event.at, depth: event.depth },
    { contentType: "json" },
  );
}
