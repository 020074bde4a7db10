import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { callTool } from "../../src/services/tools";
import { call } from "../helpers";
import { sinkReset } from "../support/engine";
import { SINK, createFlow, driveIn, freshOrg, modelCalls, modelConnection, sinkRequests, uniqueTag } from "./support";

/**
 * Flows exposed as tools in the one catalog (services/flow-tools.ts): listed by GET /v1/tools as `write` tools,
 * called through POST /v1/tools/call and by ai_agent (a child run of the agent's execution, one deeper in the chain,
 * in the ledger as an execution started), never another organization's.
 */

beforeEach(sinkReset);

const VARIABLES = {
  channel: { type: "string", description: "Where to post", required: true },
  count: { type: "integer", default: 2 },
};

/** An enabled flow with a manual trigger declaring VARIABLES, posting them to the sink under its own path. */
async function flowTool(org: string, name = "Post to Channel") {
  const hook = `/flow-tool-hook/${uniqueTag()}`;
  const flow = await createFlow(
    {
      flow_name: name,
      triggers: [{ type: "manual", configuration: { variables: VARIABLES } }],
      actions: [
        {
          id: "post",
          type: "call_webhook",
          config: { url: `${SINK}${hook}`, body: { channel: "{{ variables.channel }}", count: "{{ variables.count }}" } },
        },
      ],
    },
    org,
  );
  const tools = (await call("GET", "/v1/tools", { org })).body.tools as any[];
  const tool = tools.find((t) => t.kind === "flow" && t.action === flow.id);
  expect(tool, JSON.stringify(tools.map((t) => t.name))).toBeDefined();
  return { flow, hook, name: tool.name as string };
}

/** A flow whose one action is an ai_agent given `tools`. */
async function agentFlow(org: string, conn: string, tools: string[], approval: "auto" | "write_tools" = "auto") {
  return createFlow(
    {
      flow_name: "flow agent",
      actions: [{ id: "agent", type: "ai_agent", config: { connection_id: conn, input: "Post to #sales", tools, approval } }],
    },
    org,
  );
}

async function startIn(flowId: string, org: string, workflow_context?: Record<string, unknown>): Promise<string> {
  const res = await call("POST", "/v1/automation/executions", {
    org,
    body: { flow_id: flowId, entity_id: "none", ...(workflow_context ? { workflow_context } : {}) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

describe("flows exposed as tools: the catalog", () => {
  it("GET /v1/tools lists the org's enabled manual flows as write tools with their input schema, not another org's", async () => {
    const org = freshOrg();
    const { flow, name } = await flowTool(org);
    await createFlow({ flow_name: "Off", enabled: false, actions: [] }, org);
    await createFlow(
      { flow_name: "On event", triggers: [{ type: "event", configuration: { event_name: "x" } }], actions: [] },
      org,
    );
    const other = freshOrg();
    await flowTool(other, "Foreign Flow");

    const tools = (await call("GET", "/v1/tools", { org })).body.tools as any[];
    const flows = tools.filter((t) => t.kind === "flow");
    expect(flows.map((t) => t.name)).toEqual([name]);
    expect(name).toBe(`flow_post_to_channel_${flow.id.replace(/-/g, "").slice(0, 8)}`);
    expect(flows[0]).toMatchObject({
      effect: "write",
      platform: null,
      action: flow.id,
      required_scope: null,
      requires_connection: false,
      available: true,
      inputSchema: {
        type: "object",
        properties: { channel: { type: "string", description: "Where to post" }, count: { type: "integer", default: 2 } },
        required: ["channel"],
        additionalProperties: false,
      },
    });
    expect(flows[0].outputSchema.required).toEqual(["execution_id", "flow_id", "status", "resource_uri"]);
  });

  it("POST /v1/tools/call starts the flow with the arguments as its variables and answers at once", async () => {
    const org = freshOrg();
    const { flow, hook, name } = await flowTool(org);
    const res = await call("POST", "/v1/tools/call", { org, body: { name, arguments: { channel: "#ops" } } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ success: true, name, data: { flow_id: flow.id } });
    const id = res.body.data.execution_id as string;
    expect(res.body.data.resource_uri).toBe(`execution://${id}`);
    expect(await sinkRequests(hook)).toEqual([]); // nothing ran yet
    const exec = await driveIn(id, org);
    expect(exec.execution_status).toBe("success");
    expect(exec.trigger_event).toMatchObject({ type: "manual", via: "tools" });
    expect(exec.parent_execution_id).toBeUndefined();
    const [sent] = await sinkRequests(hook);
    expect(JSON.parse(sent.body)).toEqual({ channel: "#ops", count: 2 });
    const audit = await call("GET", "/v1/tools/audit?size=100", { org });
    expect(audit.body.results.find((r: any) => r.tool === name)).toMatchObject({ via: "tools.call", outcome: "success" });
  });

  it("refuses bad arguments (400 naming each), another org's flow tool and a disabled flow's (404), changing nothing", async () => {
    const org = freshOrg();
    const { flow, name } = await flowTool(org);
    const bad = await call("POST", "/v1/tools/call", { org, body: { name, arguments: { count: "two", color: "red" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_ERROR");
    expect(bad.body.error.details.map((d: any) => d.path).sort()).toEqual([
      "arguments.channel",
      "arguments.color",
      "arguments.count",
    ]);
    const foreign = await call("POST", "/v1/tools/call", { org: freshOrg(), body: { name, arguments: { channel: "#x" } } });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, "UNKNOWN_TOOL"]);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`, { org })).status).toBe(200);
    const off = await call("POST", "/v1/tools/call", { org, body: { name, arguments: { channel: "#x" } } });
    expect(off.status).toBe(404);
    const runs = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`, { org });
    expect(runs.body.results).toEqual([]);
  });

  it("a repeated call with the same step key finds the same child run instead of starting a second", async () => {
    const org = freshOrg();
    const { flow, name } = await flowTool(org);
    const parent = await startIn((await createFlow({ flow_name: "parent", actions: [] }, org)).id, org);
    const who = {
      orgId: org,
      actor: `execution:${parent}`,
      userId: "flow:x",
      scopes: new Set(["automations:trigger" as const]),
      parent: { executionId: parent, actionId: "agent", depth: 0 },
    };
    const req = {
      name,
      arguments: { channel: "#a" },
      requestId: "r1",
      via: "ai_agent" as const,
      idempotencyKey: `tool:${parent}:agent:step-1`,
    };
    const first = await callTool(env, who, req);
    const again = await callTool(env, who, { ...req, requestId: "r2" });
    expect(first.success).toBe(true);
    expect((again.data as any).execution_id).toBe((first.data as any).execution_id);
    const other = await callTool(env, who, { ...req, idempotencyKey: `tool:${parent}:agent:step-3` });
    expect((other.data as any).execution_id).not.toBe((first.data as any).execution_id);
    const child = await driveIn((first.data as any).execution_id, org);
    expect(child).toMatchObject({ flow_id: flow.id, parent_execution_id: parent });
    expect(child.workflow_context._execution_chain).toMatchObject({ parent_execution_id: parent, depth: 1 });
  });
});

describe("flows exposed as tools: ai_agent", () => {
  it("starts the flow as a child of the agent's execution; the ledger shows an execution started", async () => {
    const org = freshOrg();
    const { flow, hook, name } = await flowTool(org);
    const conn = await modelConnection("flow-agent", { org });
    const agent = await agentFlow(org, conn.id, [name]);
    const id = await startIn(agent.id, org);
    const exec = await driveIn(id, org);
    expect(exec.execution_status, JSON.stringify(exec.actions[0])).toBe("success");
    const a = exec.actions[0];
    const step = a.outputs.steps.find((s: any) => s.type === "tool");
    expect(step).toMatchObject({ name, success: true, arguments: { channel: "#sales" }, result: { flow_id: flow.id } });
    const childId = step.result.execution_id as string;
    expect(a.outputs.text).toContain(childId);
    // The model saw the flow tool with its schema.
    const [first] = await modelCalls(conn.path);
    const offered = first.body.tools.find((t: any) => t.function.name === name);
    expect(offered.function.parameters.required).toEqual(["channel"]);

    const child = await driveIn(childId, org);
    expect(child).toMatchObject({ flow_id: flow.id, execution_status: "success", parent_execution_id: id });
    expect(child.workflow_context._execution_chain).toMatchObject({ parent_execution_id: id, parent_task_id: "agent", depth: 1 });
    expect(child.trigger_event).toMatchObject({ via: "ai_agent", parent_execution_id: id, caller: { actor: `execution:${id}` } });
    expect(JSON.parse((await sinkRequests(hook))[0].body)).toEqual({ channel: "#sales", count: 2 });

    const ledger = await call("GET", `/v1/automation/executions/${id}/effects`, { org });
    expect(ledger.status, JSON.stringify(ledger.body)).toBe(200);
    const started = ledger.body.effects.filter((e: any) => e.kind === "execution");
    expect(started).toEqual([
      expect.objectContaining({
        action_id: "agent",
        target: `flow/${flow.id}`,
        ref: childId,
        dedupe: "engine",
        outcome: "ok",
        idempotency_key: `${id}:agent:step-1`,
      }),
    ]);
    expect(ledger.body.effects.filter((e: any) => e.kind === "model")).toHaveLength(2);
  });

  it("under approval write_tools a flow tool waits for a person; approved, it starts the run", async () => {
    const org = freshOrg();
    const { flow, name } = await flowTool(org);
    const conn = await modelConnection("flow-agent", { org });
    const agent = await agentFlow(org, conn.id, [name], "write_tools");
    const id = await startIn(agent.id, org);
    const paused = await driveIn(id, org);
    expect(paused.execution_status).toBe("paused");
    expect(paused.actions[0].waiting_for_approval).toMatchObject({ tool: name, arguments: { channel: "#sales" } });
    const before = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`, { org });
    expect(before.body.results).toEqual([]);
    const res = await call("POST", `/v1/automation/executions/${id}/agent/approval`, { org, body: { decision: "approve" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = await driveIn(id, org);
    expect(done.execution_status).toBe("success");
    const step = done.actions[0].outputs.steps.find((s: any) => s.type === "tool");
    expect(step).toMatchObject({ name, success: true, approval: "approved" });
    expect((await driveIn(step.result.execution_id, org)).parent_execution_id).toBe(id);
  });

  it("an agent at the chain's last level cannot start a flow (CHAIN_TOO_DEEP): the model is told, nothing starts", async () => {
    const org = freshOrg();
    const { flow, name } = await flowTool(org);
    const conn = await modelConnection("flow-agent", { org });
    const agent = await agentFlow(org, conn.id, [name]);
    const id = await startIn(agent.id, org, {
      workflow_exec_id: "upstream",
      workflow_role: "trigger_workflow",
      _execution_chain: { depth: LIMITS.MAX_CHAIN_DEPTH },
    });
    const exec = await driveIn(id, org);
    expect(exec.execution_status).toBe("success");
    const step = exec.actions[0].outputs.steps.find((s: any) => s.type === "tool");
    expect(step).toMatchObject({ name, success: false });
    expect(step.error).toContain("chain too deep");
    const runs = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`, { org });
    expect(runs.body.results).toEqual([]);
  });

  it("another organization's flow tool is unknown to an agent (BAD_CONFIG), sending nothing", async () => {
    const org = freshOrg();
    const { name } = await flowTool(freshOrg());
    const conn = await modelConnection("flow-agent", { org });
    const agent = await agentFlow(org, conn.id, [name]);
    const exec = await driveIn(await startIn(agent.id, org), org);
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG" });
    expect(exec.actions[0].error_output.error_reason).toContain(name);
    expect(await modelCalls(conn.path)).toHaveLength(0);
  });
});
