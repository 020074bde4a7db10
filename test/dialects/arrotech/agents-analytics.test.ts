import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../src/lib/limits";
import { call } from "../../helpers";
import { SINK, createFlow, drive } from "../../support/engine";
import { DAY, HOUR, agentRuns, agentStatus, executionRows, fireAgentAt, scheduledAgent } from "./agents-support";

const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => iso(ms).slice(0, 10);
const durationOf = (r: { started_at: string | null; finished_at: string | null }) =>
  r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null;
const mean = (xs: number[]) => (xs.length === 0 ? null : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length));

describe("agent status and analytics count the executions the agent actually ran", () => {
  it("per UTC day: runs, successes, failures and mean duration, days without runs as zeros", async () => {
    // A minute's delay, then a call whose path a run's input may make fail.
    const flow = await createFlow({
      flow_name: "analytics",
      actions: [
        { id: "wait", type: "delay", config: { duration: 1, unit: "minutes" } },
        { id: "hook", type: "call_webhook", config: { url: `${SINK}/{{ variables.path | default: "analytics-ok" }}` } },
      ],
    });
    const today = Math.floor(Date.now() / DAY) * DAY;
    const anchor = today - 3 * DAY + 10 * HOUR;
    const agent = await scheduledAgent(flow.id, { interval: 86_400 }, anchor);
    const id = agent.agent_id as string;

    // Day -2: a run that succeeds. Day -1: a run that is cancelled. Today: a run still waiting, and a manual run that fails.
    const fires = [1, 2, 3].map((n) => anchor + n * DAY);
    for (const t of fires) expect((await fireAgentAt(id, t))?.started.length).toBe(1);
    const [ok, cancelled, waiting] = (await agentRuns(id)).map((r) => r.execution_id);
    await drive(ok, fires[0]);
    expect((await drive(ok, fires[0] + 60_000)).execution_status).toBe("success");
    await drive(cancelled, fires[1]);
    expect((await call("DELETE", `/v1/automation/executions/${cancelled}`)).status).toBe(200);
    // `waiting` is never driven: it stays unfinished.
    const manual = await call("POST", `/v1/agents/${id}/execute`, { body: { path: "status/400" } });
    expect(manual.status).toBe(202);
    const failed = manual.body.execution_id as string;
    const t = Date.now();
    await drive(failed, t);
    expect((await drive(failed, t + 60_000)).execution_status).toBe("failed");

    const rows = new Map((await executionRows([ok, cancelled, waiting, failed])).map((r) => [r.id, r]));
    expect([ok, cancelled, failed].map((e) => rows.get(e)?.status)).toEqual(["success", "cancelled", "failed"]);
    expect(["success", "failed", "cancelled", "skipped"]).not.toContain(rows.get(waiting)?.status ?? "not written yet");

    const res = await call("GET", `/v1/agents/${id}/analytics?days=5`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const dur = (e: string) => durationOf(rows.get(e)!);
    expect(res.body).toEqual({
      agent_id: id,
      days: 5,
      from: iso(today - 4 * DAY),
      to: iso(today + DAY),
      totals: {
        runs: 4,
        successes: 1,
        failures: 2,
        average_duration_ms: mean([ok, cancelled, failed].map((e) => dur(e)!)),
        success_rate: 25,
      },
      daily: [
        { date: dayOf(today - 4 * DAY), runs: 0, successes: 0, failures: 0, average_duration_ms: null },
        { date: dayOf(today - 3 * DAY), runs: 0, successes: 0, failures: 0, average_duration_ms: null },
        { date: dayOf(fires[0]), runs: 1, successes: 1, failures: 0, average_duration_ms: dur(ok) },
        { date: dayOf(fires[1]), runs: 1, successes: 0, failures: 1, average_duration_ms: dur(cancelled) },
        { date: dayOf(today), runs: 2, successes: 0, failures: 1, average_duration_ms: dur(failed) },
      ],
    });
    expect(dur(ok)).toBe(60_000);

    // A one-day window holds today only; the default is a week.
    const one = await call("GET", `/v1/agents/${id}/analytics?days=1`);
    expect(one.body.daily).toEqual([
      { date: dayOf(today), runs: 2, successes: 0, failures: 1, average_duration_ms: dur(failed) },
    ]);
    const week = await call("GET", `/v1/agents/${id}/analytics`);
    expect(week.body.days).toBe(7);
    expect(week.body.daily.length).toBe(7);
    expect(week.body.totals.runs).toBe(4);

    const status = await agentStatus(id);
    expect(status).toMatchObject({
      agent_id: id,
      workflow_id: flow.id,
      workflow_name: "analytics",
      status: "active",
      trigger_type: "schedule",
      schedule: { interval: 86_400, catch_up: "none" },
      execution_count: 4,
      success_count: 1,
      failure_count: 2,
      success_rate: 25,
      fire_error_count: 0,
      next_run_at: iso(anchor + 4 * DAY),
      monitoring: { execution_count: 4, success_count: 1, success_rate: 25 },
      performance_metrics: { failure_count: 2, average_duration_ms: mean([ok, cancelled, failed].map((e) => dur(e)!)) },
    });
    // The latest failure is the manual run's (started after the scheduled ones of earlier days).
    expect(status.last_error).toContain(`Execution ${failed} failed`);
    expect(status.last_run_at).toBe([...(await agentRuns(id)).map((r) => r.run_at)].sort().at(-1));
  });

  it("an agent with no runs has zeros, a null success rate and no error", async () => {
    const flow = await createFlow({ flow_name: "idle", actions: [] });
    const agent = (await call("POST", "/v1/agents", { body: { workflow_id: flow.id } })).body;
    expect(await agentStatus(agent.agent_id)).toMatchObject({
      execution_count: 0,
      success_count: 0,
      success_rate: null,
      last_error: null,
      last_run_at: null,
      next_run_at: null,
      trigger_type: "manual",
    });
    const res = await call("GET", `/v1/agents/${agent.agent_id}/analytics?days=3`);
    expect(res.body.totals).toEqual({ runs: 0, successes: 0, failures: 0, average_duration_ms: null, success_rate: null });
    expect(res.body.daily.map((d: { runs: number }) => d.runs)).toEqual([0, 0, 0]);
  });

  it("refuses a window out of bounds or not a number", async () => {
    const flow = await createFlow({ flow_name: "window", actions: [] });
    const agent = (await call("POST", "/v1/agents", { body: { workflow_id: flow.id } })).body;
    for (const q of ["0", String(LIMITS.MAX_AGENT_ANALYTICS_DAYS + 1), "abc", "2.5"]) {
      const res = await call("GET", `/v1/agents/${agent.agent_id}/analytics?days=${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.details[0].path).toBe("days");
    }
    const max = await call("GET", `/v1/agents/${agent.agent_id}/analytics?days=${LIMITS.MAX_AGENT_ANALYTICS_DAYS}`);
    expect(max.body.daily.length).toBe(LIMITS.MAX_AGENT_ANALYTICS_DAYS);
  });
});
