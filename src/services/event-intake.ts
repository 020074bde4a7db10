import type { Env } from "../env";
import { newId } from "../lib/ids";
import { isoNow } from "../lib/time";
import type { IntakeEvent } from "../schemas/events";
import { enqueueEvent } from "./event-queue";

/** An intake request as the route validated it: the event without the fields the server sets. */
export type IntakeInput = DistributiveOmit<IntakeEvent, "id" | "org_id" | "at" | "depth">;
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
): Promise<IntakeEvent> {
  const event = { ...input, id: intakeEventId(clientId), org_id: orgId, at: isoNow(), depth: 0 } as IntakeEvent;
  await enqueueEvent(env, event);
  return event;
}
