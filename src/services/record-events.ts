import type { Env } from "../env";
import { prepareEvent, type PreparedEvent } from "./event-queue";
import { newId } from "../lib/ids";
import { isEmptyDiff } from "../engine/record-diff";
import type { EntityOperationEvent } from "../schemas/events";
import type { RecordChange } from "../schemas/records";

/** Turns a record change into its prepared event (null: no event), for the records service to write with the record. */
export type ChangeEvents = (change: RecordChange) => PreparedEvent | null;

/**
 * Every record write becomes an `entity_operation` event (an update that changed nothing does not).
 * `eventId` makes the event idempotent (an automation passes its action's key); `depth` is the
 * automation chain depth of the write (0 for the API).
 */
export function changeEvent(change: RecordChange, opts: { eventId?: string; depth?: number } = {}): EntityOperationEvent | null {
  if (change.operation === "updateEntity" && isEmptyDiff(change.diff)) return null;
  return {
    id: opts.eventId ?? `rec:${newId()}`,
    org_id: change.org_id,
    at: change.at,
    depth: opts.depth ?? 0,
    type: "entity_operation",
    operation: change.operation,
    schema: change.schema,
    entity_id: change.entity_id,
    entity: (change.after ?? change.before) as Record<string, unknown> | null,
    diff: { added: change.diff.added, updated: change.diff.updated, deleted: change.diff.deleted },
    previous: change.previous,
    actor: change.actor,
  };
}

/**
 * The events of record writes, for `createRecord`/`updateRecord`/`deleteRecord`: each write stores its
 * event in the inbox in the same D1 batch as the record (the record and its event exist together or
 * not at all), and the caller then sends it with `sendRecordEvent`. A send that never happens (the
 * Worker died) is made up by the reconciliation.
 */
export const recordChangeEvents =
  (env: Env, opts: { eventId?: string; depth?: number } = {}): ChangeEvents =>
  (change) => {
    const event = changeEvent(change, opts);
    return event ? prepareEvent(env, event) : null;
  };

/** Sends the event a record write stored; returns its id (null when the write had none). */
export async function sendRecordEvent(result: { event: PreparedEvent | null }): Promise<string | null> {
  if (!result.event) return null;
  await result.event.send();
  return result.event.id;
}
