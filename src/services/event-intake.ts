import type { Env } from "../env";
import { newId } from "../lib/ids";
import { isoNow } from "../lib/time";
import type { IntakeEvent, NamedEvent } from "../schemas/events";
import { enqueueEvent } from "./event-queue";

/** A custom event of the intake endpoint: its name, payload and the record it is about. */
export interface CustomEventInput {
  type: "custom";
  name: string;
  payload: Record<string, unknown>;
  entity_id?: string;
}

/** An intake request as the route validated it: the event without the fields the server sets. */
export type IntakeInput = DistributiveOmit<IntakeEvent, "id" | "org_id" | "at" | "depth"> | CustomEventInput;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The inbox id of an intake event. A client's id (`event_id` or `Idempotency-Key`) makes a retried POST the
 * same event: the inbox keeps its first write and executions derive from (event id, flow id), so it starts
 * nothing twice. Without one, every POST is a new event.
 */
export const intakeEventId = (clientId: string | undefined): string => `in:${clientId ?? newId()}`;

/** Writes an intake event to the inbox and queues it, like every other producer; the consumer matches flows. */
export async function acceptIntakeEvent(
  env: Env,
  orgId: string,
  input: IntakeInput,
  clientId: string | undefined,
): Promise<IntakeEvent | NamedEvent> {
  const base = { id: intakeEventId(clientId), org_id: orgId, at: isoNow(), depth: 0 };
  // A custom event is a named event, as the trigger-event action makes: flows with an `event` trigger of its
  // name start, and wait_for_event actions naming it take it.
  const event: IntakeEvent | NamedEvent =
    input.type === "custom"
      ? {
          ...base,
          type: "event",
          event_name: input.name,
          payload: input.payload,
          entity_id: input.entity_id ?? null,
          source: { kind: "custom" },
        }
      : ({ ...input, ...base } as IntakeEvent);
  await enqueueEvent(env, event);
  return event;
}
