import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, drive, getExecution, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

const MIN = 60_000;

describe("pause and resume", () => {
  it("custom-action with wait_for_callback pauses, resumes once with its token, then finishes", async () => {
    const flow = await createFlow({
      flow_name: "approval",
      actions: [
        { id: "ask", type: "custom-action", config: { name: "Approve", wait_for_callback: true, url: `${SINK}/approve` } },
        { id: "then", type: "call_webhook", config: { url: `${SINK}/then` } },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await drive(id);
    expect(exec.execution_status).toBe("paused");
    expect(exec.actions[0].execution_status).toBe("paused");
    const [sent] = await sinkRequests("/approve");
    const token = JSON.parse(sent.body).resume_token as string;
    expect(token.startsWith(`${id}.`)).toBe(true);
    expect(exec.resume_token).toBe(token);
    expect(JSON.stringify(exec.actions)).not.toContain(token);

    const bad = await call("POST", "/v1/automation/public/executions:resume", {
      token: null,
      body: { resume_token: `${id}.wrong` },
    });
    expect(bad.status).toBe(400);
    const unknown = await call("POST", "/v1/automation/public/executions:resume", {
      token: null,
      body: { resume_token: "nope.nope" },
    });
    expect(unknown.status).toBe(404);

    const ok = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(ok.status).toBe(200);
    expect(ok.body.resumedAction.id).toBe("ask");
    expect(ok.body.resumedAction.execution_status).toBe("success");
    exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    expect((await sinkRequests("/then")).length).toBe(1);

    const reused = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(reused.status).toBe(400);
    expect((await getExecution(id)).execution_status).toBe("success");
  });

  it("a cancelled execution's token no longer resumes it", async () => {
    const flow = await createFlow({
      flow_name: "p",
      actions: [{ id: "w", type: "custom-action", config: { wait_for_callback: true } }],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id);
    const token = exec.resume_token;
    expect(token).toMatch(new RegExp(`^${id}\\.`));
    expect((await call("DELETE", `/v1/automation/executions/${id}`)).status).toBe(200);
    const res = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(res.status).toBe(400);
    expect((await getExecution(id)).execution_status).toBe("cancelled");
  });
});

describe("retries", () => {
  it("retries a 5xx on the 1, 5, 30 minute ladder, recording each attempt, then fails for good", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "ladder",
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/status/503` } }],
    });
    const id = await startExec(flow.id);
    let exec = await drive(id, now);
    expect(exec.execution_status).toBe("in_progress");
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 1 * MIN);
    exec = await drive(id, now + 1 * MIN);
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 1 * MIN + 5 * MIN);
    exec = await drive(id, now + 6 * MIN);
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 6 * MIN + 30 * MIN);
    exec = await drive(id, now + 36 * MIN);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].attempts.map((a: any) => a.outcome)).toEqual(["failed", "failed", "failed", "failed"]);
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "TRIGGER_WEBHOOK_ERROR" });
    const hits = await sinkRequests("/status/503");
    expect(hits.length).toBe(4);
    expect(new Set(hits.map((h) => h.headers["idempotency-key"]))).toEqual(new Set([`${id}:h`]));
  });

  it("recovers when a retry succeeds, honouring a per-action retry_policy", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "flaky",
      retry_policy: { max_attempts: 2, backoff_seconds: [600] },
      actions: [
        {
          id: "h",
          type: "call_webhook",
          retry_policy: { max_attempts: 3, backoff_seconds: [10, 20] },
          config: { url: `${SINK}/flaky/2/k1` },
        },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await drive(id, now);
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 10_000);
    exec = await drive(id, now + 10_000);
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 30_000);
    exec = await drive(id, now + 30_000);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].attempts.map((a: any) => a.outcome)).toEqual(["failed", "failed", "success"]);
  });

  it("does not retry a 4xx, and waits as told by a 429's Retry-After", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "codes",
      actions: [{ id: "limited", type: "call_webhook", allow_failure: true, config: { url: `${SINK}/retry-after/120` } }],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id, now);
    expect(Date.parse(exec.actions[0].next_attempt_at)).toBe(now + 120_000);

    const flow2 = await createFlow({
      flow_name: "404",
      actions: [{ id: "nf", type: "call_webhook", config: { url: `${SINK}/status/404` } }],
    });
    const exec2 = await drive(await startExec(flow2.id), now);
    expect(exec2.execution_status).toBe("failed");
    expect(exec2.actions[0].attempts.length).toBe(1);
  });
});

describe("retrigger", () => {
  async function failedRun(url2: string) {
    const flow = await createFlow({
      flow_name: "retrigger",
      retry_policy: { max_attempts: 1 },
      conditions: [{ id: "c1", statements: [{ source: { origin: "trigger", attribute: "_id" }, operation: "is_empty" }] }],
      actions: [
        { id: "a1", type: "call_webhook", condition_id: "c1", config: { url: `${SINK}/ok/a1` } },
        { id: "a2", type: "call_webhook", condition_id: "c1", config: { url: url2 } },
        { id: "a3", type: "call_webhook", config: { url: `${SINK}/ok/a3` } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "failed", "skipped"]);
    return id;
  }

  it("RETRY_AND_RESUME re-runs the failed action and continues with the rest", async () => {
    const id = await failedRun(`${SINK}/flaky/1/resume`);
    const res = await call("POST", `/v1/automation/executions/${id}/a2/retrigger`, {
      body: { retry_strategy: "RETRY_AND_RESUME" },
    });
    expect(res.status).toBe(200);
    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "success", "success"]);
    expect((await sinkRequests("/ok/a1")).length).toBe(1);
  });

  it("keeps the failed attempt in the run history next to the retriggered one (attempts are numbered on)", async () => {
    const id = await failedRun(`${SINK}/flaky/1/history`);
    await call("POST", `/v1/automation/executions/${id}/a2/retrigger`, { body: { retry_strategy: "RETRY_AND_RESUME" } });
    const exec = await drive(id);
    const attempts = exec.actions[1].attempts;
    expect(attempts.map((a: any) => [a.attempt, a.outcome])).toEqual([
      [1, "failed"],
      [2, "success"],
    ]);
    expect(attempts[0].error).toBeTruthy();
    expect(exec.actions[1].attempts_total).toBe(2);
  });

  it("RETRY_AND_STOP re-runs only that action and stops", async () => {
    const id = await failedRun(`${SINK}/flaky/1/stop`);
    expect(
      (await call("POST", `/v1/automation/executions/${id}/a2/retrigger`, { body: { retry_strategy: "RETRY_AND_STOP" } })).status,
    ).toBe(200);
    const exec = await drive(id);
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "success", "skipped"]);
    expect((await sinkRequests("/ok/a3")).length).toBe(0);
  });

  it("RETRY_ALL_PARENT_CONDITION_ACTIONS re-runs every action under the condition", async () => {
    const id = await failedRun(`${SINK}/flaky/1/parent`);
    const res = await call("POST", `/v1/automation/executions/${id}/a2/retrigger`, {
      body: { retry_strategy: "RETRY_ALL_PARENT_CONDITION_ACTIONS", condition_id: "c1" },
    });
    expect(res.status).toBe(200);
    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    expect((await sinkRequests("/ok/a1")).length).toBe(2);
    expect((await sinkRequests("/ok/a3")).length).toBe(1);
  });

  it("refuses to rerun a succeeded action while the execution runs (409), an unknown one (404), a bad strategy (400)", async () => {
    const flow = await createFlow({
      flow_name: "still running",
      actions: [
        { id: "a1", type: "call_webhook", config: { url: `${SINK}/ok/a1` } },
        { id: "wait", type: "delay", config: { duration: 1, unit: "hours" } },
      ],
    });
    const id = await startExec(flow.id);
    expect((await drive(id)).execution_status).toBe("scheduled");
    const res = await call("POST", `/v1/automation/executions/${id}/a1/retrigger`, { body: {} });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/once the execution has ended/);
    expect((await call("POST", `/v1/automation/executions/${id}/zzz/retrigger`, { body: {} })).status).toBe(404);
    const bad = await call("POST", `/v1/automation/executions/${id}/a1/retrigger`, { body: { retry_strategy: "SOMETIMES" } });
    expect(bad.status).toBe(400);
  });
});

describe("tenancy", () => {
  it("another org's execution ids are 404 for every execution operation", async () => {
    const flow = await createFlow({
      flow_name: "mine",
      actions: [{ id: "w", type: "custom-action", config: { wait_for_callback: true } }],
    });
    const id = await startExec(flow.id);
    await drive(id);
    for (const [method, path] of [
      ["GET", `/v1/automation/executions/${id}`],
      ["DELETE", `/v1/automation/executions/${id}`],
      ["POST", `/v1/automation/executions/${id}/w/retrigger`],
      ["DELETE", `/v1/automation/executions/${id}/schedules/s`],
      ["GET", `/v1/automation/runs/${id}`],
    ] as const) {
      const res = await call(method, path, { org: "org-b", body: method === "POST" ? {} : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", `/v1/automation/executions`, { org: "org-b" })).body.results.some((e: any) => e.id === id)).toBe(
      false,
    );
    expect(
      (await call("POST", "/v1/automation/executions", { org: "org-b", body: { flow_id: flow.id, entity_id: "x" } })).status,
    ).toBe(404);
    expect((await getExecution(id)).execution_status).toBe("paused");
    void env;
  });
});
