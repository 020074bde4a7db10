import type { FlowControlRun } from "../contracts/flow-control-object";
import { flowControlOf } from "../engine/flow-control/config";
import { nextThrottleSlot, throttleGcra } from "../engine/flow-control/rates";
import type { Env } from "../env";
import { formatDuration } from "../lib/duration";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { AutomationFlow } from "../schemas/flow";
import { listCancelRequested, listUnsettledCancels } from "../store/admission";
import { cachedFlow } from "../store/flow-cache";
import { finishGroup, groupMembers, nextDueAt, queueView, takeDueGroups, type GroupRow } from "../store/flow-control";
import { AdmissionRefused } from "./admission";
import { groupExecutionId } from "./admission-collect";
import { admitWaiting, cancelHolder } from "./admission-queue";
import { startExecution } from "./executions";
import { settleCancelled } from "./queued-executions";

/**
 * The time-driven side of flow control (docs/flow-control.md), run by a flow's FlowControlObject when its
 * alarm fires, and by the reconciliation for an alarm that was lost: debounce and batch groups that are due
 * (or full) start their execution, throttled starts whose time came are admitted, and what a singleton
 * `cancel_previous` left half done is finished. Every step is safe to repeat.
 */

const FLUSH_BATCH = 50;

/** Starts the execution of a due group (once: its id derives from the group) and closes the group. Returns that id, or null. */
async function flushGroup(env: Env, group: GroupRow, now: number): Promise<string | null> {
  const db = env.DB;
  const members = await groupMembers(db, group.id);
  const kept = members.flatMap((m) => (m.input ? [m.input] : []));
  const last = kept[kept.length - 1];
  const flow = await cachedFlow(env, group.org_id, group.flow_id);
  if (!last || !flow) {
    // A deleted flow starts nothing; its events are dropped with the group.
    console.warn(`flow control: group ${group.id} of flow ${group.flow_id} closed without a start (flow or events gone)`);
    await finishGroup(db, group.id, null, now);
    return null;
  }
  const id = await groupExecutionId(group.org_id, group.flow_id, group.id);
  const verb = group.kind === "debounce" ? "debounced" : "batched";
  try {
    // The group's start is a start like any other, of the flow as it is now: refusals, the hot-flow limit,
    // its queue. Direct (not from an event): it is not collected again.
    await startExecution(env, {
      orgId: group.org_id,
      flow,
      executionId: id,
      entityId: last.entity_id || undefined,
      entity: last.entity,
      triggerEvent: last.trigger_event,
      workflowContext: last.workflow_context,
      depth: last.depth ?? 0,
      user: last.user,
      variables: last.variables,
      ...(last.correlation_key !== undefined ? { correlationKey: last.correlation_key } : {}),
      collected: {
        ...(group.keep === "all" ? { triggerEvents: kept.map((m) => m.trigger_event) } : {}),
        admission: {
          decision: verb,
          reason: `${group.size} event${group.size === 1 ? "" : "s"} ${verb} over ${formatDuration(Math.max(1, now - group.opened_at))}`,
          key: group.key === "" ? null : group.key,
          waited_ms: Math.max(0, now - group.opened_at),
          ...(last.admission?.keys ? { keys: last.admission.keys } : {}),
        },
      },
    });
  } catch (err) {
    if (!(err instanceof AdmissionRefused)) throw err;
    // Disabled since (or a chain too deep): refused like any start; the group is done.
    console.warn(`flow control: group ${group.id} refused: ${err.reason}`);
    await finishGroup(db, group.id, null, now);
    return null;
  }
  await finishGroup(db, group.id, id, now);
  return id;
}

/** The flow's due flow-control work at `now` (the object's clock); throws when a step failed, so the alarm is retried. */
export async function runFlowControl(env: Env, orgId: string, flowId: string, now: number): Promise<FlowControlRun> {
  const db = env.DB;
  const flow = { org_id: orgId, flow_id: flowId };
  const run: FlowControlRun = { flushed: [], promoted: [], settled: [], cancelled: [], next_at: null };
  for (const row of await listUnsettledCancels(db, LIMITS.ADMISSION_RECONCILE_BATCH, flow)) {
    await settleCancelled(env, row);
    run.settled.push(row.execution_id);
  }
  for (const row of await listCancelRequested(
    db,
    now - LIMITS.FLOW_CONTROL_FLUSH_GRACE_MS,
    LIMITS.ADMISSION_RECONCILE_BATCH,
    flow,
  )) {
    await cancelHolder(env, row.org_id, row.execution_id, row.k3 ?? "");
    run.cancelled.push(row.execution_id);
  }
  for (const group of await takeDueGroups(db, orgId, flowId, now, LIMITS.FLOW_CONTROL_FLUSH_GRACE_MS, FLUSH_BATCH)) {
    const id = await flushGroup(env, group, now);
    if (id) run.flushed.push(id);
  }
  run.promoted = await admitWaiting(env, orgId, flowId, now);
  run.next_at = await nextDueAt(db, orgId, flowId, now, LIMITS.FLOW_CONTROL_FLUSH_GRACE_MS);
  return run;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : isoNow(ms));
const age = (at: number | null, now: number) => (at === null ? null : Math.max(0, now - at));

/** GET /flows/{flow_id}/queue: what of the flow is running and waiting, per key, and what flow control holds back. */
export async function flowQueue(env: Env, flow: AutomationFlow, now = Date.now()) {
  const view = await queueView(env.DB, flow.org_id, flow.id, now, LIMITS.MAX_PAGE_SIZE);
  const rules = flowControlOf(flow);
  const gcra = rules?.throttle ? throttleGcra(rules.throttle) : null;
  const t = view.totals;
  return {
    flow_id: flow.id,
    running: t.running,
    waiting: t.waiting,
    throttled: t.throttled,
    oldest_waiting_age_ms: age(t.oldest_waiting_at, now),
    next_throttle_slot_at: iso(t.next_throttled_at),
    keys: view.keys.map((k) => ({
      bound: k.bound,
      key: k.key,
      running: k.running,
      waiting: k.waiting,
      oldest_waiting_age_ms: age(k.oldest_waiting_at, now),
    })),
    ...(rules?.throttle && gcra
      ? {
          throttle: {
            limit: rules.throttle.limit,
            period: formatDuration(rules.throttle.period_ms),
            burst: rules.throttle.burst,
            // When a new start of each key would go (a key not listed would go at once).
            keys: view.tats.map((s) => ({ key: s.key, next_slot_at: iso(nextThrottleSlot(s.tat, now, gcra)) })),
          },
        }
      : {}),
    collecting: view.groups.map((g) => ({
      kind: g.kind,
      key: g.key,
      events: g.size,
      state: g.state,
      opened_at: iso(g.opened_at),
      due_at: iso(g.due_at),
    })),
  };
}
