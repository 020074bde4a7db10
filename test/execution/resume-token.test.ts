import { beforeEach, describe, expect, it } from "vitest";
import { SINK, createFlow, drive, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";
import { apiKey, call } from "../helpers";
import { sha256Hex } from "../../src/lib/crypto";

beforeEach(sinkReset);

async function pausedExecution() {
  const flow = await createFlow({
    flow_name: "approval",
    actions: [
      { id: "ask", type: "custom-action", config: { wait_for_callback: true, url: `${SINK}/approve` } },
      { id: "then", type: "call_webhook", config: { url: `${SINK}/then` } },
    ],
  });
  const id = await startExec(flow.id);
  const exec = await drive(id);
  expect(exec.execution_status).toBe("paused");
  const [sent] = await sinkRequests("/approve");
  return { id, token: JSON.parse(sent.body).resume_token as string };
}

describe("resume tokens", () => {
  it("getExecution shows resume_token at the top level only to a principal that may resume", async () => {
    const { id, token } = await pausedExecution();
    const trigger = await apiKey("org-a", ["automations:read", "automations:trigger"]);
    const reader = await apiKey("org-a", ["automations:read"]);
    const asTrigger = await call("GET", `/v1/automation/executions/${id}`, { token: trigger });
    expect(asTrigger.status).toBe(200);
    expect(asTrigger.body.resume_token).toBe(token);
    const asReader = await call("GET", `/v1/automation/executions/${id}`, { token: reader });
    expect(asReader.status).toBe(200);
    expect(asReader.body.resume_token).toBeUndefined();
    expect(JSON.stringify(asReader.body)).not.toContain(token);
  });

  it("keeps only the token's hash in the event log, outputs and attempts", async () => {
    const { id, token } = await pausedExecution();
    const hash = await sha256Hex(token);
    const exported = (await executionStub(id).exportLog()) as any;
    const stored = JSON.stringify({ events: exported.events, outputs: exported.outputs, state: exported.state });
    expect(stored).not.toContain(token);
    expect(stored).toContain(hash);
    const snap = (await executionStub(id).snapshot()) as any;
    const attempts = JSON.stringify(snap.detail.attempts);
    expect(attempts).not.toContain(token);
    expect(attempts).toContain(`[resume_token sha256:${hash.slice(0, 12)}]`);
  });

  it("is gone from the view once used: a resumed execution shows no token", async () => {
    const { id, token } = await pausedExecution();
    const res = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(res.status).toBe(200);
    expect(res.body.execution.resume_token).toBeUndefined();
    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");
    expect(exec.resume_token).toBeUndefined();
  });
});
