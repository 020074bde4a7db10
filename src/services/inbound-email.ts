import type { Env } from "../env";
import { newId } from "../lib/ids";
import type { InboundEmail } from "../schemas/inboxes";
import type { IntakeEvent } from "../schemas/events";
import { storeInboundEmail } from "./email-threads";
import { enqueueEvent } from "./event-queue";
import { acceptIntakeEvent, intakeEventId, type IntakeInput } from "./event-intake";

/**
 * A `received_email` intake event that carries the e-mail itself (docs/platform.md): the e-mail is stored as a
 * message record in its thread (attachments in FILES) before the event is queued, and the event names the message
 * as its entity. A message that opens a thread raises a `new_email_thread` event (INBOUND, its inbox) on the thread.
 * A repeated event (same `event_id`) stores nothing twice.
 */
export async function acceptInboundEmail(
  env: Env,
  orgId: string,
  input: Extract<IntakeInput, { type: "received_email" }>,
  email: InboundEmail,
  clientId: string | undefined,
): Promise<IntakeEvent> {
  // Without a client id the event gets a new one; the message is stored under the event's id.
  const key = clientId ?? newId();
  const stored = await storeInboundEmail(env, orgId, intakeEventId(key), email);
  const payload = { ...input.payload, thread_id: stored.thread_id, message_id: stored.message_id, inbox_id: stored.inbox_id };
  const event = await acceptIntakeEvent(env, orgId, { ...input, entity_id: stored.message_id, payload }, key);
  if (stored.new_thread) {
    await enqueueEvent(env, {
      id: `${event.id}:thread`,
      org_id: orgId,
      at: event.at,
      depth: 0,
      type: "new_email_thread",
      direction: "INBOUND",
      ...(stored.inbox_id ? { shared_inbox_id: stored.inbox_id } : {}),
      entity_id: stored.thread_id,
      payload: { thread_id: stored.thread_id, message_id: stored.message_id, inbox_id: stored.inbox_id },
    });
  }
  return event;
}
