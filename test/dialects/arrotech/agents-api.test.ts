import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../../src/lib/limits";
import { apiKey, call } from "../../helpers";
import { drive, sinkRequests, sinkReset } from "../../support/engine";
import { agentFlow, agentSchedule, agentStub, createAgent, executionRows } from "./agents-support";

beforeEach(sinkReset);

const sortedPaths = (paths: Record<string, Record<string, { tags?: string[]; "x-required-scope"?: string }>>) =>
  Object.entries(paths)
    .filter(([p]) => p.startsWith("/v1/agent"))
    .flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${p} ${op["x-required-scope"]} ${op.tags?.join(",")}`),
    )
    .sort();

describe("agents: create, get, list", () => {
  it("creates an agent on a workflow of the org, and returns it on get and list", async () => {
    const flow = await agentFlow("create");
    const res = await call("POST", "/v1/agents", {
      body: { workflow_id: flow.id, agent_config: { instructions: "be brief" }, schedule_config: { interval: 3600 } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      workflow_id: flow.id,
      name: flow.flow_name,
      status: "active",
      trigger_type: "schedule",
      agent_config: { instructions: "be brief" },
      schedule_config: { interval: 3600, catch_up: "none" },
      template_id: null,
    });
    const id = res.body.agent_id as string;
    // The schedule object was armed: the next run is one interval after creation.
    const sched = await agentSchedule(id);
    expect(sched).toMatchObject({ agent_id: id, paused: false });
    expect(sched.alarm_at).not.toBeNull();
    const next = Date.parse(sched.next_fire_at!);
    expect(next - Date.parse(res.body.created_at)).toBeGreaterThanOrEqual(3_599_000);
    expect(next - Date.parse(res.body.created_at)).toBeLessThanOrEqual(3_601_000);

    const got = await call("GET", `/v1/agents/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    const list = await call("GET", "/v1/agents");
    expect(list.status).toBe(200);
    expect(list.body.map((a: { agent_id: string }) => a.agent_id)).toContain(id);
  });

  it("an agent without a schedule is manual; its name may be given", async () => {
    const flow = await agentFlow("manual");
    const agent = await createAgent({ workflow_id: flow.id, name: "Manual helper", agent_config: null });
    expect(agent).toMatchObject({ name: "Manual helper", trigger_type: "manual", schedule_config: null, agent_config: {} });
    expect(await agentSchedule(agent.agent_id)).toMatchObject({ agent_id: null, next_fire_at: null, alarm_at: null });
  });

  it("lists only the caller's agents; another org's agent is 404 on every operation", async () => {
    const mine = await createAgent({ workflow_id: (await agentFlow("iso-a")).id });
    const theirs = await createAgent({ workflow_id: (await agentFlow("iso-b", "org-b")).id }, "org-b");
    const listB = await call("GET", "/v1/agents", { org: "org-b" });
    const idsB = listB.body.map((a: { agent_id: string }) => a.agent_id);
    expect(idsB).toContain(theirs.agent_id);
    expect(idsB).not.toContain(mine.agent_id);

    const ops: [string, string, unknown?][] = [
      ["GET", ""],
      ["GET", "/status"],
      ["GET", "/analytics"],
      ["POST", "/pause"],
      ["POST", "/resume"],
      ["POST", "/schedule", { schedule_config: { interval: 60 } }],
      ["POST", "/execute", {}],
      ["DELETE", ""],
    ];
    for (const [method, suffix, body] of ops) {
      for (const id of [mine.agent_id, "00000000-0000-4000-8000-000000000000"]) {
        const res = await call(method, `/v1/agents/${id}${suffix}`, { org: "org-b", body });
        expect(res.status, `${method} ${suffix}`).toBe(404);
        expect(res.body.error.code).toBe("NOT_FOUND");
      }
    }
    // Nothing changed for the owner.
    const still = await call("GET", `/v1/agents/${mine.agent_id}`);
    expect(still.body).toMatchObject({ status: "active", schedule_config: null });
  });

  it("refuses a workflow that is unknown or another org's (404), and bad input (400) without creating anything", async () => {
    const foreign = await agentFlow("foreign", "org-b");
    for (const workflow_id of [foreign.id, "no-such-flow"]) {
      const res = await call("POST", "/v1/agents", { body: { workflow_id } });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe("Workflow not found");
    }
    const flow = await agentFlow("bad-input");
    const before = (await call("GET", "/v1/agents")).body.length;
    const bad: [unknown, string][] = [
      [{ workflow_id: 42 }, "workflow_id"],
      [{}, "workflow_id"],
      [{ workflow_id: flow.id, agent_config: "be nice" }, "agent_config"],
      [{ workflow_id: flow.id, agent_config: ["x"] }, "agent_config"],
      [{ workflow_id: flow.id, agent_config: { big: "x".repeat(LIMITS.MAX_AGENT_CONFIG_BYTES) } }, "agent_config"],
      [{ workflow_id: flow.id, schedule_config: { interval: 59 } }, "schedule_config.interval"],
      [{ workflow_id: flow.id, schedule_config: { interval: 90.5 } }, "schedule_config.interval"],
      [{ workflow_id: flow.id, schedule_config: { interval: "3600" } }, "schedule_config.interval"],
      [{ workflow_id: flow.id, schedule_config: { cron: "not a cron" } }, "schedule_config.cron"],
      [{ workflow_id: flow.id, schedule_config: { cron: "61 * * * *" } }, "schedule_config.cron"],
      [{ workflow_id: flow.id, schedule_config: { cron: "*/5 * * * * *" } }, "schedule_config.cron"],
      [{ workflow_id: flow.id, schedule_config: { cron: "0 9 * * *", timezone: "Mars/Olympus" } }, "schedule_config.timezone"],
      [{ workflow_id: flow.id, schedule_config: { interval: 60, timezone: "UTC" } }, "schedule_config.timezone"],
      [{ workflow_id: flow.id, schedule_config: { interval: 60, cron: "0 9 * * *" } }, "schedule_config"],
      [{ workflow_id: flow.id, schedule_config: {} }, "schedule_config"],
      [{ workflow_id: flow.id, schedule_config: { interval: 60, catch_up: "some" } }, "schedule_config.catch_up"],
      [{ workflow_id: flow.id, colour: "blue" }, ""],
    ];
    for (const [body, path] of bad) {
      const res = await call("POST", "/v1/agents", { body });
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(
        res.body.error.details.map((d: { path: string }) => d.path),
        JSON.stringify(res.body),
      ).toContain(path);
    }
    const malformed = await call("POST", "/v1/agents", { rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect((await call("GET", "/v1/agents")).body.length).toBe(before);
  });

  it("needs automations:read to read, automations:write to change and automations:trigger to execute", async () => {
    const flow = await agentFlow("scopes");
    const agent = await createAgent({ workflow_id: flow.id });
    const read = await apiKey("org-a", ["automations:read"]);
    const write = await apiKey("org-a", ["automations:write"]);
    const trigger = await apiKey("org-a", ["automations:trigger"]);
    const id = agent.agent_id;
    const writes: [string, string, unknown?][] = [
      ["POST", "/v1/agents", { workflow_id: flow.id }],
      ["POST", `/v1/agents/${id}/schedule`, { schedule_config: { interval: 60 } }],
      ["POST", `/v1/agents/${id}/pause`],
      ["POST", `/v1/agents/${id}/resume`],
      ["DELETE", `/v1/agents/${id}`],
      ["POST", "/v1/agent-templates/daily-digest/agents", { workflow_id: flow.id }],
    ];
    for (const [m, p, body] of writes) {
      for (const token of [read, trigger]) expect((await call(m, p, { token, body })).status, `${m} ${p}`).toBe(403);
    }
    const reads = [
      `/v1/agents`,
      `/v1/agents/${id}`,
      `/v1/agents/${id}/status`,
      `/v1/agents/${id}/analytics`,
      "/v1/agent-templates",
    ];
    for (const p of reads) {
      expect((await call("GET", p, { token: trigger })).status, p).toBe(403);
      expect((await call("GET", p, { token: read })).status, p).toBe(200);
    }
    for (const token of [read, write]) expect((await call("POST", `/v1/agents/${id}/execute`, { token })).status).toBe(403);
    expect((await call("POST", `/v1/agents/${id}/execute`, { token: trigger })).status).toBe(202);
    expect((await call("POST", `/v1/agents/${id}/pause`, { token: write })).status).toBe(200);
    expect((await call("GET", "/v1/agents", { token: null })).status).toBe(401);
  });

  it("documents every operation under the arrotech tag with its scope", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(sortedPaths(doc.body.paths)).toEqual([
      "DELETE /v1/agents/{agent_id} automations:write arrotech",
      "GET /v1/agent-templates automations:read arrotech",
      "GET /v1/agents automations:read arrotech",
      "GET /v1/agents/{agent_id} automations:read arrotech",
      "GET /v1/agents/{agent_id}/analytics automations:read arrotech",
      "GET /v1/agents/{agent_id}/status automations:read arrotech",
      "POST /v1/agent-templates/{template_id}/agents automations:write arrotech",
      "POST /v1/agents automations:write arrotech",
      "POST /v1/agents/{agent_id}/events automations:trigger arrotech",
      "POST /v1/agents/{agent_id}/execute automations:trigger arrotech",
      "POST /v1/agents/{agent_id}/pause automations:write arrotech",
      "POST /v1/agents/{agent_id}/resume automations:write arrotech",
      "POST /v1/agents/{agent_id}/schedule automations:write arrotech",
      "POST /v1/agents/{agent_id}/slack/events undefined arrotech",
    ]);
  });
});

describe("agents: schedule, pause, resume, delete", () => {
  it("sets a cron schedule with a time zone and catch-up policy; bad input changes nothing", async () => {
    const flow = await agentFlow("sched");
    const agent = await createAgent({ workflow_id: flow.id, schedule_config: { interval: 600 } });
    const id = agent.agent_id;
    const cfg = { cron: "0 9 * * 1-5", timezone: "Europe/Berlin", catch_up: "one" };
    const res = await call("POST", `/v1/agents/${id}/schedule`, { body: { agent_id: id, schedule_config: cfg } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ schedule_config: cfg, trigger_type: "schedule" });
    const next = (await agentSchedule(id)).next_fire_at!;
    // 09:00 in Berlin is 07:00Z or 08:00Z, on a weekday.
    expect(["07:00:00.000Z", "08:00:00.000Z"]).toContain(next.slice(11));
    expect([1, 2, 3, 4, 5]).toContain(new Date(next).getUTCDay());

    const bad: [unknown, string][] = [
      [{ schedule_config: { interval: 30 } }, "schedule_config.interval"],
      [{ schedule_config: { cron: "0 25 * * *" } }, "schedule_config.cron"],
      [{ schedule_config: "hourly" }, "schedule_config"],
      [{}, "schedule_config"],
      [{ agent_id: "someone-else", schedule_config: { interval: 60 } }, "agent_id"],
    ];
    for (const [body, path] of bad) {
      const r = await call("POST", `/v1/agents/${id}/schedule`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const malformed = await call("POST", `/v1/agents/${id}/schedule`, {
      rawBody: "[",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await call("GET", `/v1/agents/${id}`)).body.schedule_config).toEqual(cfg);
    expect((await agentSchedule(id)).next_fire_at).toBe(next);
  });

  it("pause drops the alarm and hides next_run_at; resume re-arms; both are idempotent", async () => {
    const flow = await agentFlow("pause");
    const agent = await createAgent({ workflow_id: flow.id, schedule_config: { interval: 3600 } });
    const id = agent.agent_id;
    const next = (await agentSchedule(id)).next_fire_at;
    for (let i = 0; i < 2; i++) {
      const p = await call("POST", `/v1/agents/${id}/pause`);
      expect(p.status).toBe(200);
      expect(p.body.status).toBe("paused");
    }
    expect(await agentSchedule(id)).toMatchObject({ paused: true, next_fire_at: null, alarm_at: null });
    expect((await call("GET", `/v1/agents/${id}/status`)).body).toMatchObject({ status: "paused", next_run_at: null });
    for (let i = 0; i < 2; i++) {
      const r = await call("POST", `/v1/agents/${id}/resume`);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("active");
    }
    // Nothing was missed (the next run is still ahead): the same next run, armed again.
    const s = await agentSchedule(id);
    expect(s).toMatchObject({ paused: false, next_fire_at: next });
    expect(s.alarm_at).not.toBeNull();
    expect((await call("GET", `/v1/agents/${id}/status`)).body.next_run_at).toBe(next);
  });

  it("delete stops the schedule and keeps the executions the agent started", async () => {
    const flow = await agentFlow("delete");
    const agent = await createAgent({ workflow_id: flow.id, schedule_config: { interval: 3600 } });
    const id = agent.agent_id;
    const run = await call("POST", `/v1/agents/${id}/execute`);
    expect(run.status).toBe(202);
    const del = await call("DELETE", `/v1/agents/${id}`);
    expect(del.status).toBe(204);
    expect((await call("GET", `/v1/agents/${id}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/agents/${id}`)).status).toBe(404);
    expect(await agentSchedule(id)).toMatchObject({ agent_id: null, alarm_at: null });
    expect((await call("GET", `/v1/automation/executions/${run.body.execution_id}`)).status).toBe(200);
    expect((await executionRows([run.body.execution_id])).length).toBe(1);
    const links = await env.DB.prepare("SELECT COUNT(*) AS n FROM agent_runs WHERE agent_id = ?").bind(id).first<{ n: number }>();
    expect(links?.n).toBe(0);
    expect(await agentStub(id).agentStatus()).toMatchObject({ agent_id: null });
  });
});

describe("agents: execute", () => {
  it("runs the workflow with agent_config and the input as variables, recorded as the agent's run", async () => {
    const flow = await agentFlow("exec");
    const agent = await createAgent({ workflow_id: flow.id, agent_config: { instructions: "summarize", topic: "default" } });
    const res = await call("POST", `/v1/agents/${agent.agent_id}/execute`, { body: { topic: "sales", path: "agent-exec-hook" } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ agent_id: agent.agent_id, status: expect.any(String) });
    const exec = await drive(res.body.execution_id);
    expect(exec.execution_status).toBe("success");
    const [req] = await sinkRequests("/agent-exec-hook");
    expect(JSON.parse(req.body)).toEqual({ instructions: "summarize", topic: "sales", agent: agent.agent_id });
    expect(await executionRows([res.body.execution_id])).toEqual([
      expect.objectContaining({ trigger_type: "agent", status: "success" }),
    ]);
    const status = await call("GET", `/v1/agents/${agent.agent_id}/status`);
    expect(status.body).toMatchObject({ execution_count: 1, success_count: 1, success_rate: 100, last_error: null });
  });

  it("a paused agent still runs by hand; bad input is 400; a disabled or deleted workflow is 409", async () => {
    const flow = await agentFlow("exec-refused");
    const agent = await createAgent({ workflow_id: flow.id });
    const id = agent.agent_id;
    await call("POST", `/v1/agents/${id}/pause`);
    expect((await call("POST", `/v1/agents/${id}/execute`, { body: { topic: "x" } })).status).toBe(202);
    for (const body of [["x"], "x", 3]) {
      const r = await call("POST", `/v1/agents/${id}/execute`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    const big = await call("POST", `/v1/agents/${id}/execute`, { body: { big: "x".repeat(LIMITS.MAX_AGENT_CONFIG_BYTES) } });
    expect(big.status).toBe(400);
    const malformed = await call("POST", `/v1/agents/${id}/execute`, {
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);

    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(200);
    const disabled = await call("POST", `/v1/agents/${id}/execute`);
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.code).toBe("FLOW_DISABLED");
    expect((await call("DELETE", `/v1/automation/flows/${flow.id}`)).status).toBeLessThan(300);
    const gone = await call("POST", `/v1/agents/${id}/execute`);
    expect(gone.status).toBe(409);
    expect(gone.body.error.code).toBe("WORKFLOW_NOT_FOUND");
    // Only the run that started is counted.
    expect((await call("GET", `/v1/agents/${id}/status`)).body).toMatchObject({ execution_count: 1, workflow_name: null });
  });
});

describe("agent templates", () => {
  it("lists a catalog with a default schedule and agent_config per kind of workflow", async () => {
    const res = await call("GET", "/v1/agent-templates");
    expect(res.status).toBe(200);
    const ids = res.body.map((t: { id: string }) => t.id);
    expect(ids).toEqual(expect.arrayContaining(["daily-digest", "hourly-health-check", "weekly-report"]));
    for (const t of res.body) {
      expect(t).toMatchObject({
        name: expect.any(String),
        workflow_kind: expect.any(String),
        default_agent_config: expect.any(Object),
      });
      // Each default schedule is one the API itself accepts.
      const flow = await agentFlow(`tpl-${t.id}`);
      const made = await call("POST", "/v1/agents", {
        body: { workflow_id: flow.id, schedule_config: t.default_schedule_config },
      });
      expect(made.status, t.id).toBe(201);
    }
  });

  it("creates an agent from a template: its defaults, the caller's overrides, and the template named", async () => {
    const flow = await agentFlow("from-tpl");
    const res = await call("POST", "/v1/agent-templates/daily-digest/agents", {
      body: { workflow_id: flow.id, agent_config: { channel: "#team" } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: "Daily digest agent",
      template_id: "daily-digest",
      schedule_config: { cron: "0 8 * * *", timezone: "UTC", catch_up: "one" },
      agent_config: { channel: "#team", period_hours: 24, instructions: expect.any(String) },
    });
    expect((await agentSchedule(res.body.agent_id)).next_fire_at?.slice(11)).toBe("08:00:00.000Z");

    const own = await call("POST", "/v1/agent-templates/hourly-health-check/agents", {
      body: { workflow_id: flow.id, name: "Pinger", schedule_config: { interval: 120 } },
    });
    expect(own.body).toMatchObject({ name: "Pinger", schedule_config: { interval: 120, catch_up: "none" } });

    expect((await call("POST", "/v1/agent-templates/nope/agents", { body: { workflow_id: flow.id } })).status).toBe(404);
    const foreign = await agentFlow("tpl-foreign", "org-b");
    expect((await call("POST", "/v1/agent-templates/daily-digest/agents", { body: { workflow_id: foreign.id } })).status).toBe(
      404,
    );
    const bad = await call("POST", "/v1/agent-templates/daily-digest/agents", {
      body: { workflow_id: flow.id, schedule_config: { interval: 1 } },
    });
    expect(bad.status).toBe(400);
  });
});
