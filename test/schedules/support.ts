import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { ScheduleStatus } from "../../src/contracts/flow-schedule-object";
import type { AlarmOutcome, FlowScheduleObject, ScheduleEvent } from "../../src/objects/flow-schedule-object";
import { call } from "../helpers";
import { recordEvents } from "../support/engine";

/** The flow's schedule object, typed by its class: tests reach into the instance (its clock, its last alarm). */
export const scheduleStub = (flowId: string) =>
  env.FLOW_SCHEDULES.get(env.FLOW_SCHEDULES.idFromName(flowId)) as DurableObjectStub<FlowScheduleObject>;

export const at = (iso: string) => Date.parse(iso);

/** Sets the schedule object's clock (ms). */
export async function setScheduleClock(flowId: string, now: number): Promise<void> {
  await runInDurableObject(scheduleStub(flowId), (o: FlowScheduleObject) => {
    o.clock = () => now;
  });
}

/** Moves the object's clock to `now` and fires its alarm on purpose; returns what the alarm did (null: no alarm). */
export async function fireAt(flowId: string, now: number): Promise<AlarmOutcome | null> {
  await setScheduleClock(flowId, now);
  const ran = await runDurableObjectAlarm(scheduleStub(flowId));
  if (!ran) return null;
  return runInDurableObject(scheduleStub(flowId), (o: FlowScheduleObject) => o.lastAlarm);
}

export async function scheduleStatus(flowId: string): Promise<ScheduleStatus> {
  return (await scheduleStub(flowId).status()) as ScheduleStatus;
}

/** Next fires of the flow's triggers, by trigger id. */
export async function nextFires(flowId: string): Promise<Record<string, string | null>> {
  const s = await scheduleStatus(flowId);
  return Object.fromEntries(s.triggers.map((t) => [t.trigger_id, t.next_fire_at]));
}

/** Replaces env.EVENTS_QUEUE.send (shared with the objects) with a recorder; restore() puts it back. */
export function captureSends() {
  return recordEvents<ScheduleEvent>();
}

/**
 * Creates a flow with the given triggers, disabled, then moves its schedule object's clock to `now` and
 * enables it through the API: the schedule is armed from that instant.
 */
export async function scheduledFlow(
  triggers: Record<string, unknown>[],
  now: number,
  extra: Record<string, unknown> = {},
  org = "org-a",
): Promise<any> {
  const res = await call("POST", "/v1/automation/flows", {
    org,
    body: { flow_name: "cron", enabled: false, triggers, actions: [], ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await setScheduleClock(res.body.id, now);
  const enabled = await call("POST", `/v1/automation/flows/${res.body.id}/enable`, { org });
  expect(enabled.status).toBe(200);
  return enabled.body;
}

export const schedule = (id: string, cron: string, timezone?: string) => ({
  id,
  type: "schedule",
  configuration: { cron, ...(timezone ? { timezone } : {}) },
});
