import { createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { FlowScheduleObject } from "../../src/objects/flow-schedule-object";
import { reconcileSchedules } from "../../src/services/reconcile-schedules";
import { call } from "../helpers";
import {
  at,
  captureSends,
  fireAt,
  nextFires,
  schedule,
  scheduleStatus,
  scheduleStub,
  scheduledFlow,
  setScheduleClock,
} from "./support";

let capture: ReturnType<typeof captureSends>;
beforeEach(() => {
  capture = captureSends();
});
afterEach(() => {
  capture.restore();
  vi.restoreAllMocks();
});

const EMPTY = { org_id: null, flow_id: null, triggers: [], alarm_at: null };

describe("flow writes keep the schedule in step", () => {
  it("creating an enabled flow with a schedule trigger arms it from now; flows without one get no schedule", async () => {
    const before = Date.now();
    const res = await call("POST", "/v1/automation/flows", {
      body: { flow_name: "hourly", triggers: [schedule("h", "0 * * * *", "Europe/Berlin")], actions: [] },
    });
    expect(res.status).toBe(201);
    const s = await scheduleStatus(res.body.id);
    expect(s).toMatchObject({ org_id: "org-a", flow_id: res.body.id, triggers: [{ trigger_id: "h", cron: "0 * * * *" }] });
    const next = Date.parse(s.triggers[0].next_fire_at!);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(3_600_000);
    expect(new Date(next).getUTCMinutes()).toBe(0);
    expect(s.alarm_at).not.toBeNull();

    const manual = await call("POST", "/v1/automation/flows", {
      body: { flow_name: "m", triggers: [{ type: "manual" }], actions: [] },
    });
    expect(await scheduleStatus(manual.body.id)).toEqual(EMPTY);
    const disabled = await call("POST", "/v1/automation/flows", {
      body: { flow_name: "off", enabled: false, triggers: [schedule("x", "0 * * * *")], actions: [] },
    });
    expect(await scheduleStatus(disabled.body.id)).toEqual(EMPTY);
  });

  it("disable clears; enable re-arms from now, so a fire missed while disabled is not replayed", async () => {
    const flow = await scheduledFlow([schedule("d", "0 9 * * *", "Europe/Berlin")], at("2026-01-10T12:00:00Z"));
    expect(await nextFires(flow.id)).toEqual({ d: "2026-01-11T08:00:00.000Z" });

    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(200);
    expect(await scheduleStatus(flow.id)).toEqual(EMPTY);

    // Three days later (three 09:00 instants missed), enable again.
    await setScheduleClock(flow.id, at("2026-01-13T12:00:00Z"));
    const enabled = await call("POST", `/v1/automation/flows/${flow.id}/enable`);
    expect(enabled.body.enabled).toBe(true);
    expect(await nextFires(flow.id)).toEqual({ d: "2026-01-14T08:00:00.000Z" });
    expect(await fireAt(flow.id, at("2026-01-13T12:00:00Z"))).toEqual({ fired: [] });
    expect(capture.sent).toEqual([]);
  });

  it("editing: a changed cron re-arms, an unchanged trigger keeps its next fire, enabled:false or no schedule trigger clears", async () => {
    const flow = await scheduledFlow([schedule("a", "0 9 * * *"), schedule("b", "0 18 * * *")], at("2026-02-01T12:00:00Z"));
    expect(await nextFires(flow.id)).toEqual({ a: "2026-02-02T09:00:00.000Z", b: "2026-02-01T18:00:00.000Z" });
    const put = (body: Record<string, unknown>) =>
      call("PUT", `/v1/automation/flows/${flow.id}`, { body: { flow_name: "cron", actions: [], ...body } });

    await setScheduleClock(flow.id, at("2026-02-01T13:00:00Z"));
    let res = await put({ triggers: [schedule("a", "0 9 * * *"), schedule("b", "30 14 * * *", "Europe/Berlin")] });
    expect(res.status).toBe(200);
    expect(await nextFires(flow.id)).toEqual({ a: "2026-02-02T09:00:00.000Z", b: "2026-02-01T13:30:00.000Z" });

    // A new trigger id is a new trigger; a dropped one is gone.
    res = await put({ triggers: [schedule("a", "0 9 * * *"), schedule("c", "*/15 * * * * *")] });
    expect(res.status).toBe(200);
    expect(await nextFires(flow.id)).toEqual({ a: "2026-02-02T09:00:00.000Z", c: "2026-02-01T13:00:15.000Z" });

    res = await put({ enabled: false, triggers: [schedule("a", "0 9 * * *")] });
    expect(res.body.enabled).toBe(false);
    expect(await scheduleStatus(flow.id)).toEqual(EMPTY);
    res = await put({ enabled: true, triggers: [schedule("a", "0 9 * * *")] });
    expect(res.body.enabled).toBe(true);
    expect(await nextFires(flow.id)).toEqual({ a: "2026-02-02T09:00:00.000Z" });

    res = await put({ triggers: [{ id: "m", type: "manual" }] });
    expect(res.status).toBe(200);
    expect(await scheduleStatus(flow.id)).toEqual(EMPTY);
  });

  it("a bad cron or zone is a 400 that leaves the schedule as it was", async () => {
    const flow = await scheduledFlow([schedule("a", "0 9 * * *")], at("2026-02-01T12:00:00Z"));
    const before = await scheduleStatus(flow.id);
    for (const cfg of [
      { cron: "61 * * * *" },
      { cron: "0 9 * *" },
      { cron: "0 9 * * *", timezone: "Mars/Olympus" },
      { cron: 9 },
    ]) {
      const res = await call("PUT", `/v1/automation/flows/${flow.id}`, {
        body: { flow_name: "cron", actions: [], triggers: [{ id: "a", type: "schedule", configuration: cfg }] },
      });
      expect(res.status, JSON.stringify(cfg)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const malformed = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(await scheduleStatus(flow.id)).toEqual(before);
  });

  it("delete clears the schedule", async () => {
    const flow = await scheduledFlow([schedule("a", "* * * * *")], at("2026-02-01T12:00:00Z"));
    expect((await call("DELETE", `/v1/automation/flows/${flow.id}`)).status).toBe(200);
    expect(await scheduleStatus(flow.id)).toEqual(EMPTY);
    expect((await call("DELETE", `/v1/automation/flows/${flow.id}`)).status).toBe(404);
  });

  it("another org's flow id is a 404 for every write, and its schedule is untouched", async () => {
    const flow = await scheduledFlow([schedule("a", "0 9 * * *")], at("2026-02-01T12:00:00Z"), {}, "org-b");
    const before = await scheduleStatus(flow.id);
    expect(before.org_id).toBe("org-b");
    const body = { flow_name: "x", actions: [], triggers: [schedule("a", "0 10 * * *")] };
    expect((await call("PUT", `/v1/automation/flows/${flow.id}`, { body })).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/enable`)).status).toBe(404);
    expect((await call("DELETE", `/v1/automation/flows/${flow.id}`)).status).toBe(404);
    expect(await scheduleStatus(flow.id)).toEqual(before);
  });
});

describe("reconciliation (the Worker's scheduled handler)", () => {
  async function runScheduled(): Promise<{ checked: number; rearmed: string[]; failed: string[] } | null> {
    const log = vi.spyOn(console, "log");
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    const line = log.mock.calls.find((c) => c[0] === "reconcile-schedules");
    log.mockRestore();
    return line ? JSON.parse(line[1] as string) : null;
  }

  it("re-arms a flow whose alarm was lost, logs it, and then finds nothing to fix", async () => {
    const flow = await scheduledFlow([schedule("r", "0 9 * * *", "Europe/Berlin")], at("2026-03-27T12:00:00Z"));
    const stub = scheduleStub(flow.id);
    await runInDurableObject(stub, (_o: FlowScheduleObject, state) => state.storage.deleteAlarm());
    expect((await scheduleStatus(flow.id)).alarm_at).toBeNull();

    const report = await runScheduled();
    expect(report?.rearmed).toContain(flow.id);
    expect(report?.checked).toBeGreaterThanOrEqual(1);
    const s = await scheduleStatus(flow.id);
    expect(s.alarm_at).not.toBeNull();
    expect(s.triggers[0].next_fire_at).toBe("2026-03-28T08:00:00.000Z");
    // The repaired alarm fires as scheduled.
    expect((await fireAt(flow.id, at("2026-03-28T08:00:00Z")))?.fired.length).toBe(1);

    const again = await runScheduled();
    expect(again?.rearmed ?? []).not.toContain(flow.id);
  });

  it("restores a schedule whose object lost its triggers or holds a stale set; leaves disabled flows alone", async () => {
    const wiped = await scheduledFlow([schedule("w", "0 * * * *")], at("2026-04-01T10:30:00Z"));
    await scheduleStub(wiped.id).clear();
    const stale = await scheduledFlow([schedule("s", "0 * * * *")], at("2026-04-01T10:30:00Z"));
    await scheduleStub(stale.id).sync("org-a", stale.id, [{ trigger_id: "old", cron: "0 0 1 1 *" }], true);
    const off = await scheduledFlow([schedule("o", "0 * * * *")], at("2026-04-01T10:30:00Z"));
    await call("POST", `/v1/automation/flows/${off.id}/disable`);

    const report = await reconcileSchedules(env, "");
    expect(report.rearmed).toEqual(expect.arrayContaining([wiped.id, stale.id]));
    expect(report.rearmed).not.toContain(off.id);
    expect(report.failed).toEqual([]);
    expect(await nextFires(wiped.id)).toEqual({ w: "2026-04-01T11:00:00.000Z" });
    expect(await nextFires(stale.id)).toEqual({ s: "2026-04-01T11:00:00.000Z" });
    expect(await scheduleStatus(off.id)).toEqual(EMPTY);

    // Starting the page in the middle of the flow ids wraps around: every scheduled flow is still checked.
    const ids = [wiped.id, stale.id].sort();
    await scheduleStub(ids[0]).clear();
    const wrapped = await reconcileSchedules(env, ids[1]);
    expect(wrapped.rearmed).toContain(ids[0]);
    const all = await reconcileSchedules(env, "");
    expect(wrapped.checked).toBe(all.checked);
    expect(all.rearmed).toEqual([]);
  });
});
