import { candidateLookup, executionTriggerEvent, matchFlow } from "../engine/trigger-match";
import type { Env } from "../env";
import { StoredEventRefSchema, TriggerEventSchema, type TriggerEvent } from "../schemas/events";
import { loadInboxEvent, settleInboxEvents } from "../store/event-inbox";
import type { AutomationFlow } from "../schemas/flow";
import { EVENTS_DLQ, EVENTS_QUEUE } from "../services/event-queue";
import { AdmissionRefused, admissionRefusal } from "../services/admission";
import { startExecution } from "../services/executions";
import { getFlowsByIds } from "../store/flows";
import { cachedFlow } from "../store/flow-cache";
import { recordDeadLetter, recordQueueFailure } from "../store/queue-failures";
import { candidateFlowIds } from "../store/trigger-index";

export { EVENTS_DLQ, EVENTS_QUEUE };

export interface EventOutcome {
  event_id: string;
  started: string[];
  skipped: { flow_id: string; reason: string }[];
}

const messageKey = (body: unknown, fallback: string): string =>
  typeof (body as { id?: unknown })?.id === "string" ? (body as { id: string }).id : fallback;
const orgOf = (body: unknown): string | null =>
  typeof (body as { org_id?: unknown })?.org_id === "string" ? (body as { org_id: string }).org_id : null;

async function candidateFlows(env: Env, event: TriggerEvent): Promise<AutomationFlow[]> {
  const lookup = candidateLookup(event);
  if ("flowId" in lookup) {
    const flow = await cachedFlow(env, event.org_id, lookup.flowId);
    return flow ? [flow] : [];
  }
  const ids = await candidateFlowIds(env.DB, event.org_id, lookup.types, lookup.keys);
  return getFlowsByIds(env.DB, event.org_id, ids);
}

/**
 * One event → one execution per matching flow that admission lets in (services/admission.ts: a refused
 * flow is skipped with the reason). Execution ids derive from (event id, flow id), so processing the
 * same event again (a redelivery, a retried batch) starts nothing new.
 */
export async function processEvent(env: Env, event: TriggerEvent): Promise<EventOutcome> {
  const outcome: EventOutcome = { event_id: event.id, started: [], skipped: [] };
  // Too deep a chain would be refused for every flow: the event is skipped before any flow is read.
  const tooDeep = admissionRefusal(null, event.depth);
  if (tooDeep) {
    outcome.skipped.push({ flow_id: "*", reason: tooDeep.reason });
    return outcome;
  }
  const flows = await candidateFlows(env, event);
  const triggerEvent = executionTriggerEvent(event);
  // Every event type but webhook and schedule may name the record it is about.
  const entityId = "entity_id" in event ? (event.entity_id ?? undefined) : undefined;
  const entity = event.type === "entity_operation" ? event.entity : undefined;
  await Promise.all(
    flows.map(async (flow) => {
      const match = matchFlow(flow, event);
      if (!match.matched) {
        outcome.skipped.push({ flow_id: flow.id, reason: match.reason ?? "no match" });
        return;
      }
      // Over the flow's concurrency_limit the execution is created pending and starts when a slot frees:
      // it is listed as started, never dropped. A refusal (a disabled flow) is a skip with its reason.
      try {
        const res = await startExecution(env, {
          orgId: event.org_id,
          flow,
          entityId: entityId ?? undefined,
          entity,
          triggerEvent: { ...triggerEvent, trigger_id: match.trigger_id },
          depth: event.depth,
          dedupeKey: `event:${event.id}`,
        });
        outcome.started.push(res.id);
      } catch (err) {
        if (!(err instanceof AdmissionRefused)) throw err;
        outcome.skipped.push({ flow_id: flow.id, reason: err.reason });
      }
    }),
  );
  return outcome;
}

/**
 * The events queue consumer. A message is acknowledged only after its executions exist; a failure is
 * recorded and retried (ending in the dead-letter queue after max_retries). A message that can never
 * be processed (invalid) is recorded as dead at once.
 */
export async function handleEventsBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Messages are independent (each starts its own executions): process them concurrently.
  const settled = await Promise.all(batch.messages.map((msg) => handleEventMessage(msg, env)));
  await settle(env, settled);
}

/** What became of one message's event, for its inbox row. */
type Settled = { org_id: string; id: string; state: "done" | "dead" } | null;

/**
 * Marks the batch's events in the inbox, in one D1 batch per state. After the acks: if this fails or the
 * invocation dies first, the reconciliation sends those events again later, which starts nothing new.
 */
async function settle(env: Env, settled: Settled[]): Promise<void> {
  for (const state of ["done", "dead"] as const) {
    const events = settled.filter((s): s is NonNullable<Settled> => s?.state === state);
    await settleInboxEvents(env.DB, events, state).catch((err: unknown) =>
      console.warn(`event inbox: could not mark ${events.length} event(s) ${state}: ${String(err)}`),
    );
  }
}

/** A reference to an event in the inbox (too large for a message, or sent again) is resolved to the event itself. */
async function resolveBody(env: Env, body: unknown): Promise<unknown> {
  const ref = StoredEventRefSchema.safeParse(body);
  if (!ref.success) return body;
  const stored = await loadInboxEvent(env.DB, ref.data.org_id, ref.data.id);
  if (stored === null) throw new Error(`Stored event ${ref.data.id} not found`);
  return JSON.parse(stored);
}

async function handleEventMessage(msg: Message<unknown>, env: Env): Promise<Settled> {
  const key = messageKey(msg.body, msg.id);
  let body: unknown;
  try {
    body = await resolveBody(env, msg.body);
  } catch (err) {
    await recordQueueFailure(env.DB, EVENTS_QUEUE, key, orgOf(msg.body), msg.attempts, (err as Error).message).catch(
      () => undefined,
    );
    msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    return null;
  }
  const parsed = TriggerEventSchema.safeParse(body);
  if (!parsed.success) {
    const reason = `Invalid event: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
    await recordQueueFailure(env.DB, EVENTS_QUEUE, key, orgOf(msg.body), msg.attempts, reason);
    await recordDeadLetter(env.DB, EVENTS_QUEUE, key, orgOf(msg.body), msg.body, msg.attempts, reason);
    msg.ack();
    const org = orgOf(msg.body);
    return org ? { org_id: org, id: key, state: "dead" } : null;
  }
  try {
    await processEvent(env, parsed.data);
    msg.ack();
    return { org_id: parsed.data.org_id, id: parsed.data.id, state: "done" };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    await recordQueueFailure(env.DB, EVENTS_QUEUE, key, parsed.data.org_id, msg.attempts, reason).catch(() => undefined);
    msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    return null;
  }
}

/** Dead-letter consumers: record each message that gave up, with the last error seen for it. */
export async function handleDeadLetterBatch(batch: MessageBatch<unknown>, env: Env, sourceQueue: string): Promise<void> {
  const dead: Settled[] = [];
  for (const msg of batch.messages) {
    const key = messageKey(msg.body, msg.id);
    await recordDeadLetter(
      env.DB,
      sourceQueue,
      key,
      orgOf(msg.body),
      msg.body,
      msg.attempts,
      "Gave up after the queue's max_retries",
    );
    msg.ack();
    const org = orgOf(msg.body);
    if (sourceQueue === EVENTS_QUEUE && org) dead.push({ org_id: org, id: key, state: "dead" });
  }
  // A dead event is not sent again by the reconciliation.
  await settle(env, dead);
}
