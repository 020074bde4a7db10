import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FlowScheduleObject } from "../../src/objects/flow-schedule-object";
import { processEvent } from "../../src/queues/events";
import { ScheduleEventSchema } from "../../src/schemas/events";
import { call } from "../helpers";
import { SINK, drive, getExecution, sinkRequests, sinkReset } from "../support/engine";
import { at, captureSends, fireAt, nextFires, schedule, scheduleStatus, scheduleStub, scheduledFlow } from "./support";

let capture: ReturnType<typeof captureSends>;
beforeEach(async () => {
  await sinkReset();
  capture = captureSends();
});
afterEach(() => {
  capture.restore();
  vi.restoreAllMocks();
});

describe("firing across daylight-saving changes (Europe/Berlin)", () => {
  it("0 9 * * * fires at 08:00Z in winter time and 07:00Z in summer time across 2026-03-29", async () => {
    const flow = await scheduledFlow([schedule("daily", "0 9 * * *", "Europe/Berlin")], at("2026-03-27T12:00:00Z"));
    expect(await nextFires(flow.id)).toEqual({ daily: "2026-03-28T08:00:00.000Z" });
    expect((await scheduleStatus(flow.id)).alarm_at).not.toBeNull();

    // An alarm a second early fires nothing and re-arms.
    expect(await fireAt(flow.id, at("2026-03-28T07:59:59Z"))).toEqual({ fired: [] });
    expect(capture.sent).toEqual([]);

    const first = await fireAt(flow.id, at("2026-03-28T08:00:00Z"));
    expect(first?.fired).toEqual([
      {
        trigger_id: "daily",
        event_id: `cron:${flow.id}:daily:2026-03-28T08:00:00.000Z`,
        scheduled_at: "2026-03-28T08:00:00.000Z",
        skipped: 0,
      },
    ]);
    expect(await nextFires(flow.id)).toEqual({ daily: "2026-03-29T07:00:00.000Z" });

    const second = await fireAt(flow.id, at("2026-03-29T07:00:00.250Z"));
    expect(second?.fired.map((f) => f.scheduled_at)).toEqual(["2026-03-29T07:00:00.000Z"]);
    expect(await nextFires(flow.id)).toEqual({ daily: "2026-03-30T07:00:00.000Z" });

    expect(capture.sent.length).toBe(2);
    expect(capture.sent.map((e) => ScheduleEventSchema.parse(e))).toEqual([
      {
        id: `cron:${flow.id}:daily:2026-03-28T08:00:00.000Z`,
        org_id: "org-a",
        at: "2026-03-28T08:00:00.000Z",
        depth: 0,
        type: "schedule",
        flow_id: flow.id,
        trigger_id: "daily",
        scheduled_at: "2026-03-28T08:00:00.000Z",
        cron: "0 9 * * *",
        timezone: "Europe/Berlin",
      },
      expect.objectContaining({ scheduled_at: "2026-03-29T07:00:00.000Z", at: "2026-03-29T07:00:00.250Z" }),
    ]);
    const s = await scheduleStatus(flow.id);
    expect(s.triggers[0]).toMatchObject({ last_fired_at: "2026-03-29T07:00:00.000Z", last_event_id: capture.sent[1].id });
    // Each fire is in the event inbox before its message: a lost message is sent again by the reconciliation.
    for (const e of capture.sent as { id: string }[]) {
      const row = await env.DB.prepare("SELECT state FROM event_inbox WHERE org_id = 'org-a' AND id = ?").bind(e.id).first();
      expect(row).toEqual({ state: "queued" });
    }
  });

  it("30 2 * * * on the spring-forward day (02:30 does not exist) fires as croner does: once, at 03:00 CEST", async () => {
    const flow = await scheduledFlow([schedule("s", "30 2 * * *", "Europe/Berlin")], at("2026-03-28T12:00:00Z"));
    expect(await nextFires(flow.id)).toEqual({ s: "2026-03-29T01:00:00.000Z" });
    const fired = await fireAt(flow.id, at("2026-03-29T01:00:00Z"));
    expect(fired?.fired.map((f) => f.scheduled_at)).toEqual(["2026-03-29T01:00:00.000Z"]);
    expect(await nextFires(flow.id)).toEqual({ s: "2026-03-30T00:30:00.000Z" });
  });

  it("30 2 * * * on the fall-back day (02:30 happens twice) fires once, at the first 02:30 (CEST)", async () => {
    const flow = await scheduledFlow([schedule("f", "30 2 * * *", "Europe/Berlin")], at("2026-10-24T12:00:00Z"));
    expect(await nextFires(flow.id)).toEqual({ f: "2026-10-25T00:30:00.000Z" });
    expect((await fireAt(flow.id, at("2026-10-25T00:30:00Z")))?.fired.length).toBe(1);
    expect(await nextFires(flow.id)).toEqual({ f: "2026-10-26T01:30:00.000Z" });
    // The second 02:30 (CET, 01:30Z) is not a fire.
    expect(await fireAt(flow.id, at("2026-10-25T01:30:00Z"))).toEqual({ fired: [] });
    expect(capture.sent.map((e) => e.scheduled_at)).toEqual(["2026-10-25T00:30:00.000Z"]);
  });

  it("an interval cron runs on both passes of the repeated hour", async () => {
    const flow = await scheduledFlow(
      [schedule("i", "0 2 * * *", "Europe/Berlin"), schedule("j", "0 * * * *", "Europe/Berlin")],
      at("2026-10-24T23:30:00Z"),
    );
    for (const t of ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"]) await fireAt(flow.id, at(t));
    expect(capture.sent.map((e) => `${e.trigger_id} ${e.scheduled_at}`)).toEqual([
      "i 2026-10-25T00:00:00.000Z", // 02:00 CEST: the fixed-time job, once
      "j 2026-10-25T00:00:00.000Z", // 02:00 CEST
      "j 2026-10-25T01:00:00.000Z", // 02:00 CET: the hourly job runs again
      "j 2026-10-25T02:00:00.000Z", // 03:00 CET
    ]);
  });
});

describe("the alarm", () => {
  it("6-field cron: second precision; a late alarm fires once for the most recent instant (no replay)", async () => {
    const flow = await scheduledFlow([schedule("s6", "*/10 * * * * *")], at("2026-01-01T00:00:03Z"));
    expect(await nextFires(flow.id)).toEqual({ s6: "2026-01-01T00:00:10.000Z" });
    expect((await fireAt(flow.id, at("2026-01-01T00:00:10Z")))?.fired.map((f) => f.scheduled_at)).toEqual([
      "2026-01-01T00:00:10.000Z",
    ]);
    const late = await fireAt(flow.id, at("2026-01-01T00:01:05Z"));
    expect(late?.fired).toEqual([expect.objectContaining({ scheduled_at: "2026-01-01T00:01:00.000Z", skipped: 4 })]);
    expect(await nextFires(flow.id)).toEqual({ s6: "2026-01-01T00:01:10.000Z" });
    expect(capture.sent.length).toBe(2);
  });

  it("fires every due trigger of the flow and arms the earliest next fire", async () => {
    const flow = await scheduledFlow(
      [schedule("a", "0 * * * *"), schedule("b", "30 * * * *"), schedule("c", "0 0 * * *")],
      at("2026-02-01T10:10:00Z"),
    );
    expect(await nextFires(flow.id)).toEqual({
      a: "2026-02-01T11:00:00.000Z",
      b: "2026-02-01T10:30:00.000Z",
      c: "2026-02-02T00:00:00.000Z",
    });
    const fired = await fireAt(flow.id, at("2026-02-01T11:00:00Z"));
    expect(fired?.fired.map((f) => `${f.trigger_id} ${f.scheduled_at}`)).toEqual([
      "a 2026-02-01T11:00:00.000Z",
      "b 2026-02-01T10:30:00.000Z",
    ]);
    expect(await nextFires(flow.id)).toEqual({
      a: "2026-02-01T12:00:00.000Z",
      b: "2026-02-01T11:30:00.000Z",
      c: "2026-02-02T00:00:00.000Z",
    });
  });

  it("a double fire of one instant enqueues the same event id, which starts one execution", async () => {
    const flow = await scheduledFlow([schedule("d", "0 12 * * *")], at("2026-05-01T00:00:00Z"), {
      actions: [{ id: "hook", type: "call_webhook", config: { url: `${SINK}/double` } }],
    });
    await fireAt(flow.id, at("2026-05-01T12:00:00Z"));
    // The alarm dies after the send but before its write (the platform retries it): the instant is due again.
    await runInDurableObject(scheduleStub(flow.id), (_o: FlowScheduleObject, state) => {
      state.storage.sql.exec("UPDATE schedule_triggers SET next_fire_at = ?", at("2026-05-01T12:00:00Z"));
    });
    await fireAt(flow.id, at("2026-05-01T12:00:02Z"));
    expect(capture.sent.length).toBe(2);
    expect(capture.sent[1].id).toBe(capture.sent[0].id);
    const a = await processEvent(env, capture.sent[0]);
    const b = await processEvent(env, capture.sent[1]);
    expect(a.started.length).toBe(1);
    expect(b.started).toEqual(a.started);
  });

  it("its events start executions through processEvent, with trigger.scheduled_at for templates", async () => {
    const flow = await scheduledFlow([schedule("t", "0 6 * * 1-5", "Europe/Berlin")], at("2026-03-06T12:00:00Z"), {
      actions: [
        {
          id: "hook",
          type: "call_webhook",
          config: {
            url: `${SINK}/cron-run`,
            body: { scheduled: "{{ trigger.scheduled_at }}", trigger: "{{ trigger.trigger_id }}" },
          },
        },
      ],
    });
    // Friday 2026-03-06 → the next weekday is Monday 2026-03-09, 06:00 CET.
    expect(await nextFires(flow.id)).toEqual({ t: "2026-03-09T05:00:00.000Z" });
    await fireAt(flow.id, at("2026-03-09T05:00:00Z"));
    const outcome = await processEvent(env, capture.sent[0]);
    expect(outcome.started.length).toBe(1);
    const exec = await drive(outcome.started[0]);
    expect(exec.execution_status).toBe("success");
    expect(exec.trigger_event).toMatchObject({ type: "schedule", trigger_id: "t", scheduled_at: "2026-03-09T05:00:00.000Z" });
    const hits = await sinkRequests("/cron-run");
    expect(JSON.parse(hits[0].body)).toEqual({ scheduled: "2026-03-09T05:00:00.000Z", trigger: "t" });
  });

  it("overlapping runs start, unless the flow sets concurrency_limit 1: then the next fire waits its turn", async () => {
    const actions = [{ id: "wait", type: "delay", config: { duration: 3600, unit: "seconds" } }];
    const free = await scheduledFlow([schedule("m", "* * * * *")], at("2026-06-01T00:00:30Z"), { actions });
    const one = await scheduledFlow([schedule("m", "* * * * *")], at("2026-06-01T00:00:30Z"), { actions, concurrency_limit: 1 });
    for (const t of ["2026-06-01T00:01:00Z", "2026-06-01T00:02:00Z"]) {
      await fireAt(free.id, at(t));
      await fireAt(one.id, at(t));
    }
    const outcomes = [];
    for (const e of capture.sent) outcomes.push({ flow: e.flow_id, ...(await processEvent(env, e)) });
    const freeRuns = outcomes.filter((o) => o.flow === free.id);
    const oneRuns = outcomes.filter((o) => o.flow === one.id);
    expect(freeRuns.map((o) => o.started.length)).toEqual([1, 1]);
    expect(oneRuns.map((o) => o.started.length)).toEqual([1, 1]);
    // The second fire is not dropped: it waits, pending, for the first run's slot (services/admission.ts).
    expect((await drive(oneRuns[0].started[0])).execution_status).toBe("scheduled");
    expect((await getExecution(oneRuns[1].started[0])).execution_status).toBe("pending");
    expect((await getExecution(freeRuns[0].started[0])).execution_status).not.toBe("success");
  });

  it("a flow the circuit breaker disabled stops firing and its schedule is cleared", async () => {
    const flow = await scheduledFlow([schedule("cb", "0 * * * *")], at("2026-07-01T09:30:00Z"), {
      retry_policy: { max_attempts: 1 },
      error_handling: { disable_after_failures: 1 },
      actions: [{ id: "boom", type: "call_webhook", config: { url: `${SINK}/status/500` } }],
    });
    await fireAt(flow.id, at("2026-07-01T10:00:00Z"));
    const outcome = await processEvent(env, capture.sent[0]);
    expect((await drive(outcome.started[0])).execution_status).toBe("failed");
    const after = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(after.body).toMatchObject({ enabled: false, disable_details: { disabled_by: "system" } });

    const next = await fireAt(flow.id, at("2026-07-01T11:00:00Z"));
    expect(next).toEqual({ fired: [], cleared: "flow disabled" });
    expect(capture.sent.length).toBe(1);
    expect(await scheduleStatus(flow.id)).toEqual({ org_id: null, flow_id: null, triggers: [], alarm_at: null });
  });

  it("a flow deleted or edited behind the object's back: the alarm checks D1 first", async () => {
    const gone = await scheduledFlow([schedule("g", "0 * * * *")], at("2026-08-01T09:30:00Z"));
    await env.DB.prepare("DELETE FROM flows WHERE id = ?").bind(gone.id).run();
    expect(await fireAt(gone.id, at("2026-08-01T10:00:00Z"))).toEqual({ fired: [], cleared: "flow deleted" });

    const edited = await scheduledFlow([schedule("e", "0 * * * *"), schedule("k", "15 * * * *")], at("2026-08-01T09:30:00Z"));
    await env.DB.prepare("UPDATE flows SET doc = json_set(doc, '$.triggers[0].configuration.cron', '45 * * * *') WHERE id = ?")
      .bind(edited.id)
      .run();
    // "e" changed: it is re-armed from now (its old instant is not fired); "k" is unchanged and due: it fires.
    const out = await fireAt(edited.id, at("2026-08-01T10:15:00Z"));
    expect(out).toMatchObject({ resynced: true, fired: [{ trigger_id: "k", scheduled_at: "2026-08-01T10:15:00.000Z" }] });
    expect(await nextFires(edited.id)).toEqual({ e: "2026-08-01T10:45:00.000Z", k: "2026-08-01T11:15:00.000Z" });
    expect(capture.sent.map((e) => e.trigger_id)).toEqual(["k"]);
  });

  it("a failing send keeps the instant due and re-arms the alarm; the retry fires it once", async () => {
    const flow = await scheduledFlow([schedule("f", "0 * * * *")], at("2026-08-02T09:30:00Z"));
    const queue = env.EVENTS_QUEUE as unknown as { send: (body: unknown) => Promise<void> };
    const recorder = queue.send;
    queue.send = async () => {
      throw new Error("queue unavailable");
    };
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(await fireAt(flow.id, at("2026-08-02T10:00:00Z"))).toEqual({ fired: [] });
    } finally {
      queue.send = recorder;
    }
    expect(error.mock.calls[0][0]).toMatch(/schedule alarm failed/);
    const s = await scheduleStatus(flow.id);
    expect(s.triggers[0].next_fire_at).toBe("2026-08-02T10:00:00.000Z");
    expect(s.alarm_at).not.toBeNull();
    const retried = await fireAt(flow.id, at("2026-08-02T10:00:05Z"));
    expect(retried?.fired.map((f) => f.scheduled_at)).toEqual(["2026-08-02T10:00:00.000Z"]);
    expect(capture.sent.length).toBe(1);
  });

  it("ensureArmed re-arms a lost alarm once; an empty object has nothing to arm", async () => {
    const flow = await scheduledFlow([schedule("r", "0 0 * * *")], at("2026-09-01T00:00:30Z"));
    const stub = scheduleStub(flow.id);
    expect(await stub.ensureArmed()).toBe(false);
    await runInDurableObject(stub, (_o: FlowScheduleObject, state) => state.storage.deleteAlarm());
    expect((await scheduleStatus(flow.id)).alarm_at).toBeNull();
    expect(await stub.ensureArmed()).toBe(true);
    expect((await scheduleStatus(flow.id)).alarm_at).not.toBeNull();
    expect(await stub.ensureArmed()).toBe(false);
    const empty = scheduleStub("no-such-flow");
    expect(await empty.ensureArmed()).toBe(false);
    expect(await fireAt("no-such-flow", at("2026-09-02T00:00:00Z"))).toBeNull();
  });

  it("sync: an expression that never fires is stored without an alarm; a disabled sync clears", async () => {
    const stub = scheduleStub("never-flow");
    const s = await stub.sync("org-a", "never-flow", [{ trigger_id: "n", cron: "0 0 30 2 *" }], true);
    expect(s.triggers).toEqual([
      { trigger_id: "n", cron: "0 0 30 2 *", next_fire_at: null, last_fired_at: null, last_event_id: null },
    ]);
    expect(s.alarm_at).toBeNull();
    const cleared = await stub.sync("org-a", "never-flow", [{ trigger_id: "n", cron: "0 0 * * *" }], false);
    expect(cleared.triggers).toEqual([]);
  });
});
