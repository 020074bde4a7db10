import type { Env } from "../env";
import { enqueueEvent } from "./event-queue";
import { newId } from "../lib/ids";
import { isEmptyDiff } from "../engine/record-diff";
import type { EntityOperationEvent } from "../schemas/events";
import type { RecordChange } from "../schemas/records";

/**
 * Every record write becomes an `entity_operation` event on the events queue (an update that changed
 * nothing does not). `eventId` makes the event idempotent (an automation passes its action's key);
 * `depth` is the automation chain depth of the write (0 for the API).
 */
export async function emitRecordChange(
  env: Env,
  change: RecordChange,
  opts: { eventId?: string; depth?: number } = {},
): Promise<string | null> {
  if (change.operation === "updateEntity" && isEmptyDiff(change.diff)) return null;
  const event: EntityOperationEvent = {
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
  await enqueueEvent(env, event);
  return event.id;
}
