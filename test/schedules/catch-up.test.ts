import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScheduleEventSchema } from "../../src/schemas/events";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { at, captureSends, fireAt, nextFires, scheduleStatus, scheduledFlow } from "./support";

/**
 * One scheduler (issue 25): a flow's schedule triggers take `interval`, `catch_up` and `paused` as an agent's
 * schedule does (the agents' own tests are test/dialects/arrotech/agents-schedule.test.ts).
 */

let capture: ReturnType<typeof captureSends>;
beforeEach(() => {
  capture = captureSends();
});
afterEach(() => capture.restore());

const T0 = at("2026-06-01T10:00:00Z");
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const every = (id: string, seconds: number, extra: Record<string, unknown> = {}) => ({
  id,
  type: "schedule",
  configuration: { interval: seconds, ...extra },
});

async function putTriggers(flow: any, triggers: Record<string, unknown>[]) {
  const res = await call("PUT", `/v1/automation/flows/${flow.id}`, {
    body: { flow_name: flow.flow_name, enabled: true, triggers, actions: [] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

describe("schedule triggers with an interval, catch-up and pause", () => {
  it("an interval trigger fires on its grid from when it was set; its events carry the interval", async () => {
    const flow = await scheduledFlow([every("hourly", 3600)], T0);
    expect(await nextFires(flow.id)).toEqual({ hourly: iso(T0 + HOUR) });
    expect((await fireAt(flow.id, T0 + HOUR + 2000))?.fired.map((f) => f.scheduled_at)).toEqual([iso(T0 + HOUR)]);
    expect(await nextFires(flow.id)).toEqual({ hourly: iso(T0 + 2 * HOUR) });
    const event = ScheduleEventSchema.parse(capture.sent[0]);
    expect(event).toMatchObject({ trigger_id: "hourly", interval: 3600, scheduled_at: iso(T0 + HOUR) });
    expect(event.cron).toBeUndefined();
  });

  it("a late alarm runs the latest instant once (none), or each missed one up to the bound (all)", async () => {
    const none = await scheduledFlow([every("n", 3600)], T0);
    const late = await fireAt(none.id, T0 + 4 * HOUR + 5);
    expect(late?.fired.map((f) => f.scheduled_at)).toEqual([iso(T0 + 4 * HOUR)]);
    expect(late?.fired[0].skipped).toBe(3);

    const all = await scheduledFlow([every("a", 3600, { catch_up: "all" })], T0);
    const burst = await fireAt(all.id, T0 + (LIMITS.MAX_AGENT_CATCHUP_RUNS + 3) * HOUR);
    expect(burst?.fired).toHaveLength(LIMITS.MAX_AGENT_CATCHUP_RUNS);
    expect(burst?.fired.at(-1)?.scheduled_at).toBe(iso(T0 + (LIMITS.MAX_AGENT_CATCHUP_RUNS + 3) * HOUR));
    expect(new Set(burst?.fired.map((f) => f.event_id)).size).toBe(LIMITS.MAX_AGENT_CATCHUP_RUNS);
  });

  it("a paused trigger fires nothing; unpaused, catch_up one runs the most recent missed instant once", async () => {
    const flow = await scheduledFlow([every("p", 3600, { catch_up: "one", paused: true })], T0);
    const status = await scheduleStatus(flow.id);
    expect(status.triggers[0]).toMatchObject({ paused: true, catch_up: "one" });
    expect(status.alarm_at).toBeNull();
    expect(await fireAt(flow.id, T0 + 5 * HOUR)).toBeNull();
    await putTriggers(flow, [every("p", 3600, { catch_up: "one" })]);
    const resumed = await fireAt(flow.id, T0 + 5 * HOUR + 60_000);
    expect(resumed?.fired.map((f) => f.scheduled_at)).toEqual([iso(T0 + 5 * HOUR)]);
    expect(await nextFires(flow.id)).toEqual({ p: iso(T0 + 6 * HOUR) });
  });

  it("catch_up none: unpausing runs nothing missed and goes on from its next instant", async () => {
    const flow = await scheduledFlow([every("q", 3600)], T0);
    await putTriggers(flow, [every("q", 3600, { paused: true })]);
    expect(await fireAt(flow.id, T0 + 3 * HOUR)).toBeNull();
    await putTriggers(flow, [every("q", 3600)]);
    expect(await nextFires(flow.id)).toEqual({ q: iso(T0 + 4 * HOUR) });
    expect(capture.sent).toHaveLength(0);
  });

  it("refuses a schedule with both or neither of cron and interval, a short interval, a zone without cron, a bad policy", async () => {
    for (const configuration of [
      { cron: "0 * * * *", interval: 3600 },
      {},
      { interval: 30 },
      { interval: 3600, timezone: "Europe/Berlin" },
      { interval: 3600, catch_up: "some" },
      { interval: 3600, paused: "yes" },
    ]) {
      const res = await call("POST", "/v1/automation/flows", {
        body: { flow_name: "bad", triggers: [{ type: "schedule", configuration }], actions: [] },
      });
      expect(res.status, JSON.stringify(configuration)).toBe(400);
    }
  });
});
