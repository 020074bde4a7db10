import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../../src/lib/limits";
import { fireAgent } from "../../../src/services/agent-runs";
import { reconcileAgentSchedules } from "../../../src/services/reconcile-agents";
import { reconcileAll } from "../../../src/services/reconcile-all";
import { getAgent } from "../../../src/store/agents";
import { call } from "../../helpers";
import { drive, sinkRequests, sinkReset } from "../../support/engine";
import {
  HOUR,
  agentFlow,
  agentRuns,
  agentSchedule,
  agentStub,
  agentStatus,
  at,
  executionRows,
  fireAgentAt,
  forceAlarm,
  scheduledAgent,
  setAgentClock,
} from "./agents-support";

beforeEach(sinkReset);

const T0 = at("2026-02-02T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

/** An hourly agent (grid T0 + n h) with the given catch-up policy, fired once at T0 + 1 h. */
async function hourlyAgent(tag: string, catchUp = "none") {
  const flow = await agentFlow(tag);
  const agent = await scheduledAgent(flow.id, { interval: 3600, catch_up: catchUp }, T0, { agent_config: { instructions: tag } });
  const id = agent.agent_id as string;
  expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + HOUR));
  const first = await fireAgentAt(id, T0 + HOUR);
  expect(first).toMatchObject({ fired: [iso(T0 + HOUR)], errors: [], skipped: 0 });
  expect(first?.started.length).toBe(1);
  return { flow, id };
}

/** Pauses, lets `hours` more hours pass (from T0 + 1 h), resumes, and fires whatever is due then. */
async function pauseMissResume(id: string, hours: number) {
  expect((await call("POST", `/v1/agents/${id}/pause`)).status).toBe(200);
  // While paused, even an alarm that fires anyway runs nothing.
  for (let h = 2; h <= 1 + hours; h++)
    expect(await forceAlarm(id, T0 + h * HOUR)).toEqual({ fired: [], started: [], errors: [], skipped: 0, paused: true });
  const now = T0 + (1 + hours) * HOUR + 30 * 60_000; // half past, between two instants
  await fireAgentAt(id, now); // sets the clock (no alarm is armed while paused)
  expect((await call("POST", `/v1/agents/${id}/resume`)).status).toBe(200);
  return { now, resumed: await fireAgentAt(id, now) };
}

describe("agent schedules fire through the schedule object and admission", () => {
  it("an interval agent starts one execution per instant, linked to the agent, and re-arms on its grid", async () => {
    const { id } = await hourlyAgent("interval");
    expect((await fireAgentAt(id, T0 + HOUR + 59 * 60_000))?.fired).toEqual([]); // early: nothing
    const second = await fireAgentAt(id, T0 + 2 * HOUR + 1500);
    expect(second?.fired).toEqual([iso(T0 + 2 * HOUR)]);
    expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + 3 * HOUR));

    const runs = await agentRuns(id);
    expect(runs.map((r) => [r.source, r.scheduled_at, r.run_at])).toEqual([
      ["schedule", iso(T0 + HOUR), iso(T0 + HOUR)],
      ["schedule", iso(T0 + 2 * HOUR), iso(T0 + 2 * HOUR + 1500)],
    ]);
    for (const r of runs) await drive(r.execution_id);
    const rows = await executionRows(runs.map((r) => r.execution_id));
    expect(rows.map((r) => [r.status, r.trigger_type])).toEqual([
      ["success", "agent"],
      ["success", "agent"],
    ]);
    // The agent's config reached the runs as variables, its id as the trigger.
    const sent = await sinkRequests("/ok-interval");
    expect(sent.map((s) => JSON.parse(s.body))).toEqual([
      { instructions: "interval", topic: "", agent: id },
      { instructions: "interval", topic: "", agent: id },
    ]);
    expect(await agentStatus(id)).toMatchObject({
      execution_count: 2,
      success_count: 2,
      success_rate: 100,
      last_run_at: iso(T0 + 2 * HOUR + 1500),
      next_run_at: iso(T0 + 3 * HOUR),
    });
  });

  it("a cron agent fires at its local time across a daylight-saving change (Europe/Berlin)", async () => {
    const flow = await agentFlow("cron");
    const start = at("2026-03-27T12:00:00Z");
    const agent = await scheduledAgent(flow.id, { cron: "0 9 * * *", timezone: "Europe/Berlin" }, start);
    const id = agent.agent_id;
    expect((await agentSchedule(id)).next_fire_at).toBe("2026-03-28T08:00:00.000Z");
    expect((await fireAgentAt(id, at("2026-03-28T08:00:00Z")))?.fired).toEqual(["2026-03-28T08:00:00.000Z"]);
    expect((await agentSchedule(id)).next_fire_at).toBe("2026-03-29T07:00:00.000Z");
    expect((await fireAgentAt(id, at("2026-03-29T07:00:00Z")))?.fired).toEqual(["2026-03-29T07:00:00.000Z"]);
    expect((await agentRuns(id)).length).toBe(2);
  });

  it("a repeated fire of one instant (an alarm retried after a crash) starts nothing new", async () => {
    const { id } = await hourlyAgent("retry");
    const agent = (await getAgent(env.DB, "org-a", id))!;
    const again = await fireAgent(env, agent, [T0 + HOUR], T0 + HOUR);
    const runs = await agentRuns(id);
    expect(runs.length).toBe(1);
    expect(again).toEqual({ started: [runs[0].execution_id], errors: [] });
  });

  it("a late alarm with catch_up none runs once, for the most recent instant", async () => {
    const { id } = await hourlyAgent("late");
    const late = await fireAgentAt(id, T0 + 4 * HOUR + 10_000);
    expect(late).toMatchObject({ fired: [iso(T0 + 4 * HOUR)], skipped: 2 });
    expect((await agentRuns(id)).length).toBe(2);
    expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + 5 * HOUR));
  });
});

describe("pause, resume and catch-up", () => {
  it("a paused agent never fires, even when its alarm runs or D1 says paused before the object knows", async () => {
    const { id } = await hourlyAgent("paused");
    expect((await call("POST", `/v1/agents/${id}/pause`)).status).toBe(200);
    expect((await agentSchedule(id)).alarm_at).toBeNull();
    expect(await fireAgentAt(id, T0 + 2 * HOUR)).toBeNull(); // no alarm armed
    expect(await forceAlarm(id, T0 + 5 * HOUR)).toMatchObject({ fired: [], paused: true });
    expect((await agentRuns(id)).length).toBe(1);

    // A pause whose call into the object was lost: the object still checks D1 before it fires.
    const other = await hourlyAgent("paused-d1");
    await env.DB.prepare("UPDATE agents SET status = 'paused' WHERE id = ?").bind(other.id).run();
    expect(await fireAgentAt(other.id, T0 + 2 * HOUR)).toMatchObject({ fired: [], started: [], paused: true });
    expect(await agentSchedule(other.id)).toMatchObject({ paused: true, alarm_at: null });
    expect((await agentRuns(other.id)).length).toBe(1);
  });

  it("catch_up none: a resumed agent fires at its next due time, with no burst of missed runs", async () => {
    const { id } = await hourlyAgent("none");
    const { now, resumed } = await pauseMissResume(id, 5);
    expect(await agentSchedule(id)).toMatchObject({ paused: false, next_fire_at: iso(T0 + 7 * HOUR) });
    expect(resumed === null || resumed.fired.length === 0).toBe(true);
    expect((await agentRuns(id)).length).toBe(1);
    expect((await fireAgentAt(id, now))?.fired ?? []).toEqual([]);
    expect((await fireAgentAt(id, T0 + 7 * HOUR))?.fired).toEqual([iso(T0 + 7 * HOUR)]);
    expect((await agentRuns(id)).map((r) => r.scheduled_at)).toEqual([iso(T0 + HOUR), iso(T0 + 7 * HOUR)]);
  });

  it("catch_up one: a resumed agent runs the most recent missed instant once, then follows its schedule", async () => {
    const { id } = await hourlyAgent("one", "one");
    const { now, resumed } = await pauseMissResume(id, 5);
    expect(resumed).toMatchObject({ fired: [iso(T0 + 6 * HOUR)], skipped: 4 });
    expect((await fireAgentAt(id, now))?.fired ?? []).toEqual([]);
    expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + 7 * HOUR));
    expect((await agentRuns(id)).map((r) => r.scheduled_at)).toEqual([iso(T0 + HOUR), iso(T0 + 6 * HOUR)]);
  });

  it("catch_up all: a resumed agent runs each missed instant, at most MAX_AGENT_CATCHUP_RUNS of them", async () => {
    const { id } = await hourlyAgent("all", "all");
    const { resumed } = await pauseMissResume(id, 3);
    expect(resumed?.fired).toEqual([2, 3, 4].map((h) => iso(T0 + h * HOUR)));
    expect(resumed?.started.length).toBe(3);
    expect((await agentRuns(id)).length).toBe(4);

    const many = await hourlyAgent("all-bounded", "all");
    const missed = LIMITS.MAX_AGENT_CATCHUP_RUNS + 5;
    const bounded = await pauseMissResume(many.id, missed);
    expect(bounded.resumed?.fired.length).toBe(LIMITS.MAX_AGENT_CATCHUP_RUNS);
    expect(bounded.resumed?.skipped).toBe(5);
    expect(bounded.resumed?.fired.at(-1)).toBe(iso(T0 + (1 + missed) * HOUR));
    expect((await agentRuns(many.id)).length).toBe(1 + LIMITS.MAX_AGENT_CATCHUP_RUNS);
    expect((await agentSchedule(many.id)).next_fire_at).toBe(iso(T0 + (2 + missed) * HOUR));
  });

  it("a new schedule while paused stays paused and starts from now", async () => {
    const { id } = await hourlyAgent("resched");
    await call("POST", `/v1/agents/${id}/pause`);
    await fireAgentAt(id, T0 + 3 * HOUR); // sets the clock only
    const res = await call("POST", `/v1/agents/${id}/schedule`, {
      body: { schedule_config: { interval: 600, catch_up: "all" } },
    });
    expect(res.body.status).toBe("paused");
    expect(await agentSchedule(id)).toMatchObject({ paused: true, alarm_at: null });
    await call("POST", `/v1/agents/${id}/resume`);
    expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + 3 * HOUR + 600_000));
  });
});

describe("fires that cannot start a run are recorded errors", () => {
  it("a disabled workflow: the fire records the error and the schedule goes on; enabling it lets the next fire run", async () => {
    const { flow, id } = await hourlyAgent("disabled");
    await call("POST", `/v1/automation/flows/${flow.id}/disable`);
    const fired = await fireAgentAt(id, T0 + 2 * HOUR);
    expect(fired?.started).toEqual([]);
    expect(fired?.errors).toEqual([expect.stringContaining("disabled")]);
    expect((await agentSchedule(id)).next_fire_at).toBe(iso(T0 + 3 * HOUR));
    const status = await agentStatus(id);
    expect(status).toMatchObject({ execution_count: 1, fire_error_count: 1, next_run_at: iso(T0 + 3 * HOUR) });
    expect(status.last_error).toContain(`Scheduled run for ${iso(T0 + 2 * HOUR)} not started`);

    await call("POST", `/v1/automation/flows/${flow.id}/enable`);
    expect((await fireAgentAt(id, T0 + 3 * HOUR))?.started.length).toBe(1);
    expect((await agentRuns(id)).length).toBe(2);
  });

  it("a deleted workflow: the fire records the error; a deleted agent's object clears itself", async () => {
    const { flow, id } = await hourlyAgent("deleted-flow");
    await call("DELETE", `/v1/automation/flows/${flow.id}`);
    const fired = await fireAgentAt(id, T0 + 2 * HOUR);
    expect(fired?.errors).toEqual([expect.stringContaining("no longer exists")]);
    expect((await agentStatus(id)).last_error).toContain("no longer exists");

    // An agent deleted in D1 whose object was not told: the next alarm clears the object and fires nothing.
    const other = await hourlyAgent("deleted-agent");
    await env.DB.prepare("DELETE FROM agents WHERE id = ?").bind(other.id).run();
    expect(await fireAgentAt(other.id, T0 + 2 * HOUR)).toMatchObject({ fired: [], cleared: "agent deleted" });
    expect(await agentSchedule(other.id)).toMatchObject({ agent_id: null, alarm_at: null });
  });
});

describe("reconciliation (the Worker's scheduled handler)", () => {
  it("restores an agent schedule whose object lost its state or its alarm, and a pause the object missed", async () => {
    const { id } = await hourlyAgent("reconcile");
    await agentStub(id).clear(); // the object lost everything
    expect(await agentSchedule(id)).toMatchObject({ agent_id: null, alarm_at: null });
    await setAgentClock(id, T0 + 90 * 60_000);
    const first = await reconcileAgentSchedules(env, "");
    expect(first.rearmed).toContain(id);
    expect(first.failed).toEqual([]);
    const restored = await agentSchedule(id);
    expect(restored).toMatchObject({ agent_id: id, paused: false, next_fire_at: iso(T0 + 90 * 60_000 + HOUR) });
    expect(restored.alarm_at).not.toBeNull();
    expect((await reconcileAgentSchedules(env, "")).rearmed).not.toContain(id);

    await runInDurableObject(agentStub(id), (_o, ctx) => ctx.storage.deleteAlarm());
    expect((await reconcileAgentSchedules(env, "")).rearmed).toContain(id);
    expect((await agentSchedule(id)).alarm_at).not.toBeNull();

    await env.DB.prepare("UPDATE agents SET status = 'paused' WHERE id = ?").bind(id).run();
    expect((await reconcileAgentSchedules(env, "")).rearmed).toContain(id);
    expect(await agentSchedule(id)).toMatchObject({ paused: true, alarm_at: null });
  });

  it("runs as a step of the per-minute reconciliation", async () => {
    const { id } = await hourlyAgent("reconcile-all");
    await agentStub(id).clear();
    const report = await reconcileAll(env, Date.now());
    expect(report.agent_schedules?.rearmed).toContain(id);
    expect(report.errors).toEqual([]);
  });
});
