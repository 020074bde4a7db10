import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Principal } from "../../src/lib/principal";
import { listFlowTools, startFlowTool } from "../../src/services/flow-tools";
import { call } from "../helpers";
import { agentRuns, createAgent, fireAgentAt, scheduledAgent } from "../dialects/arrotech/agents-support";
import { adminHeaders, mcpClient } from "../mcp/support";
import { createFlow } from "../support/engine";
import { HOLD, hasObject, holders, limitedFlow, queueOf, waiting } from "./support";

vi.setConfig({ testTimeout: 60_000 });

/**
 * Issue 23 item 4: every way a run starts calls services/executions.ts startExecution, whose admission
 * decides once. entry-points.test.ts covers the API, manual and single-action runs, events (record
 * changes, cron fires), bulk jobs and trigger-workflow; this file covers the others — agents (by hand
 * and by their schedule), MCP and the dialects (Coherence, TrustPager, Arrotech workflows) — with the
 * same two outcomes: a disabled flow is refused (each in its own words), and under a concurrency_limit of
 * 1 the second start waits in the admission queue without an object. test/node/start-path.test.ts checks
 * the same from the source: no module but startExecution asks admission or creates an execution.
 */

const HOUR = 3_600_000;

/** The flow's one slot is held by `first` and `second` waits for it, with no object yet. */
async function expectSecondWaits(flowId: string, first: string, second: string): Promise<void> {
  const queue = await queueOf(flowId);
  expect(holders(queue).map((r) => r.execution_id)).toEqual([first]);
  expect(waiting(queue).map((r) => r.execution_id)).toEqual([second]);
  expect(await hasObject(second)).toBe(false);
}

const disabledFlow = () => createFlow({ flow_name: "one-path off", enabled: false, actions: HOLD });

describe("the API's Idempotency-Key", () => {
  it("is not claimed by a refused start (409 FLOW_DISABLED, CHAIN_TOO_DEEP): the same key starts once admitted", async () => {
    const flow = await disabledFlow();
    const key = crypto.randomUUID();
    const start = (workflow_context?: Record<string, unknown>) =>
      call("POST", "/v1/automation/executions", {
        body: { flow_id: flow.id, entity_id: "x", ...(workflow_context ? { workflow_context } : {}) },
        headers: { "idempotency-key": key },
      });
    const off = await start();
    expect([off.status, off.body.error?.code]).toEqual([409, "FLOW_DISABLED"]);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/enable`)).status).toBe(200);
    const tooDeep = await start({
      workflow_exec_id: "parent",
      workflow_role: "trigger_workflow",
      _execution_chain: { depth: 11 },
    });
    expect([tooDeep.status, tooDeep.body.error?.code]).toEqual([409, "CHAIN_TOO_DEEP"]);
    const keys = await env.DB.prepare(`SELECT COUNT(*) AS n FROM idempotency_keys WHERE key = ?`)
      .bind(key)
      .first<{ n: number }>();
    expect(keys?.n).toBe(0);
    const first = await start();
    const again = await start();
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(first.body.id);
  });
});

describe("agents", () => {
  it("by hand: a disabled flow is a 409 FLOW_DISABLED; under a limit the second run waits", async () => {
    const off = await disabledFlow();
    const refusedAgent = await createAgent({ workflow_id: off.id });
    const refused = await call("POST", `/v1/agents/${refusedAgent.agent_id}/execute`);
    expect([refused.status, refused.body.error?.code]).toEqual([409, "FLOW_DISABLED"]);

    const flow = await limitedFlow(1);
    const agent = await createAgent({ workflow_id: flow.id });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await call("POST", `/v1/agents/${agent.agent_id}/execute`);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      ids.push(res.body.execution_id);
    }
    await expectSecondWaits(flow.id, ids[0], ids[1]);
  });

  it("by schedule: a disabled flow's fire is an error on the agent; under a limit the second fire waits", async () => {
    const now = Date.parse("2031-03-01T00:00:00Z");
    const off = await disabledFlow();
    const offAgent = await scheduledAgent(off.id, { interval: 3600 }, now);
    const missed = await fireAgentAt(offAgent.agent_id, now + HOUR);
    expect(missed?.started).toEqual([]);
    expect(missed?.errors).toEqual([expect.stringContaining(`Flow ${off.id} is disabled`)]);

    const flow = await limitedFlow(1);
    const agent = await scheduledAgent(flow.id, { interval: 3600 }, now);
    const first = await fireAgentAt(agent.agent_id, now + HOUR);
    const second = await fireAgentAt(agent.agent_id, now + 2 * HOUR);
    expect([first?.started.length, second?.started.length]).toEqual([1, 1]);
    expect((await agentRuns(agent.agent_id)).map((r) => r.execution_id)).toEqual([first!.started[0], second!.started[0]]);
    await expectSecondWaits(flow.id, first!.started[0], second!.started[0]);
  });
});

describe("MCP", () => {
  it("a flow disabled after it was listed is refused (FLOW_DISABLED); under a limit the second call waits", async () => {
    const org = `one-path-mcp-${crypto.randomUUID().slice(0, 8)}`;
    const principal = { orgId: org, actor: "test", scopes: ["*"], kind: "superuser" } as unknown as Principal;
    const soonOff = await createFlow({ flow_name: "soon off", actions: HOLD }, org);
    const [tool] = await listFlowTools(env, org);
    expect(tool.flow.id).toBe(soonOff.id);
    expect((await call("POST", `/v1/automation/flows/${soonOff.id}/disable`, { org })).status).toBe(200);
    expect(await startFlowTool(env, principal, tool, {})).toMatchObject({ ok: false, code: "FLOW_DISABLED" });

    const flow = await limitedFlow(1, {}, org);
    const client = await mcpClient(adminHeaders(org));
    const name = (await client.listTools()).tools.find((t) => t.name.startsWith("flow_limited_1_"))!.name;
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await client.callTool({ name, arguments: {} });
      ids.push((res.structuredContent as { execution_id: string }).execution_id);
    }
    await client.close();
    await expectSecondWaits(flow.id, ids[0], ids[1]);
  });
});

describe("dialects", () => {
  it("TrustPager: trigger and single-action run refuse a disabled flow (409 FLOW_DISABLED); under a limit the second waits", async () => {
    const off = await disabledFlow();
    for (const path of [`/api/v1/automations/${off.id}/trigger`, `/api/v1/automations/${off.id}/actions/hold/execute`]) {
      const res = await call("POST", path, { body: {} });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 409, code: "FLOW_DISABLED" });
    }
    const flow = await limitedFlow(1);
    const first = await call("POST", `/api/v1/automations/${flow.id}/trigger`, { body: {} });
    const second = await call("POST", `/api/v1/automations/${flow.id}/actions/hold/execute`, { body: {} });
    expect([first.status, second.status]).toEqual([200, 200]);
    await expectSecondWaits(flow.id, first.body.run_id, second.body.run_id);
  });

  it("Coherence: under a limit the second trigger waits (its disabled answer is the dialect's own, tested with it)", async () => {
    const flow = await limitedFlow(1);
    const first = await call("POST", `/v1/automations/${flow.id}/trigger`, { body: {} });
    const second = await call("POST", `/v1/automations/${flow.id}/trigger`, { body: {} });
    expect([first.status, second.status], JSON.stringify(second.body)).toEqual([200, 200]);
    await expectSecondWaits(flow.id, first.body.data.run_id, second.body.data.run_id);
  });

  it("Arrotech workflows: under a limit the second execute waits", async () => {
    const flow = await limitedFlow(1);
    const first = await call("POST", `/v1/workflows/${flow.id}/execute`);
    const second = await call("POST", `/v1/workflows/${flow.id}/execute`);
    expect([first.status, second.status], JSON.stringify(second.body)).toEqual([200, 200]);
    await expectSecondWaits(flow.id, first.body.id, second.body.id);
  });
});
