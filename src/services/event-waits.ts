import { eventNameOf, specMatchKey, waitableEvent } from "../engine/event-waits";
import type { EventWaitState, ExecutionState } from "../engine/execution/types";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { TriggerEventSchema, type TriggerEvent } from "../schemas/events";
import {
  clearWaitStatement,
  deleteWaitRow,
  eventKeysStatement,
  lookbackBodies,
  lookbackStatement,
  registerWaitStatements,
  waitRows,
  waitsForEventStatement,
  type WaitRow,
} from "../store/event-waits";
import { executionClient } from "./object-clients";

/**
 * wait_for_event between the execution objects and the events consumer (docs/flow-control.md). A wait is
 * indexed when the object has committed it (so a delivery always finds the object waiting), and its lookback
 * read in the same D1 batch; an event is matched through the index in one batch with the recording of its
 * own keys, then delivered to each waiting object, which checks it again.
 */

/** The earlier events a wait's lookback found, by spec. */
export type LookbackMatch = { spec: number; event: Record<string, unknown> };

/** Indexes an execution's wait (idempotent) and reads its lookback: one D1 batch. */
export async function registerEventWait(
  env: Env,
  state: ExecutionState,
  actionId: string,
  wait: EventWaitState,
): Promise<LookbackMatch[]> {
  const rows: WaitRow[] = wait.specs.map((spec, i) => ({
    execution_id: state.id,
    action_id: actionId,
    spec_index: i,
    org_id: state.org_id,
    event_name: spec.event,
    event_path: spec.correlate?.event_path ?? "",
    match_key: specMatchKey(spec),
    since: wait.since,
    expires_at: wait.until,
  }));
  const db = env.DB;
  const lookbacks = rows.map((r) =>
    lookbackStatement(db, r.org_id, r.event_name, r.match_key, r.since, LIMITS.MAX_WAIT_LOOKBACK_EVENTS),
  );
  const results = await db.batch([...registerWaitStatements(db, state.flow.id, rows), ...lookbacks]);
  const found = results.slice(results.length - lookbacks.length);
  return found.flatMap((res, spec) =>
    lookbackBodies(res).flatMap((body) => {
      const parsed = TriggerEventSchema.safeParse(JSON.parse(body));
      return parsed.success ? [{ spec, event: waitableEvent(parsed.data) }] : [];
    }),
  );
}

/** Takes an action's wait out of the index; never throws (a stale entry is dropped at its next delivery, or when it expires). */
export async function clearEventWait(env: Env, executionId: string, actionId: string): Promise<void> {
  try {
    await clearWaitStatement(env.DB, executionId, actionId).run();
  } catch (err) {
    console.warn(`event waits: could not clear ${executionId}/${actionId}: ${String(err)}`);
  }
}

/**
 * Delivers an event to the executions waiting for it: records its match keys (for later lookbacks) and
 * finds the waits in one batch, then tells each object. An entry whose execution no longer waits is
 * deleted. Throws when an object could not be reached, so the event is retried (a delivery is idempotent:
 * an object ignores an event for a spec it has matched). Returns how many objects accepted it.
 */
export async function deliverToWaits(env: Env, event: TriggerEvent): Promise<number> {
  const body = waitableEvent(event);
  const at = Date.parse(event.at);
  const e = { org_id: event.org_id, name: eventNameOf(event), id: event.id, at: Number.isFinite(at) ? at : Date.now() };
  const db = env.DB;
  const [, found] = await db.batch([
    eventKeysStatement(db, { ...e, body: JSON.stringify(body) }),
    waitsForEventStatement(db, e, LIMITS.MAX_WAIT_DELIVERIES_PER_EVENT),
  ]);
  const results = await Promise.allSettled(
    waitRows(found).map(async (row) => {
      const res = await executionClient(env, row.execution_id).deliverEvent(event.org_id, row.action_id, row.spec_index, body);
      if (!res.ok) await deleteWaitRow(db, row);
      return res.ok && res.matched;
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.filter((r) => r.status === "fulfilled" && r.value).length;
}
