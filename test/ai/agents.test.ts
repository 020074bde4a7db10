import { beforeEach, describe, expect, it } from "vitest";
import { signSlack } from "../../src/engine/webhook-signatures";
import { call } from "../helpers";
import { sinkReset } from "../support/engine";
import { driveIn, freshOrg, modelCalls, modelConnection, vendorConnection } from "./support";

beforeEach(sinkReset);

/** A workflow whose ai_agent step leaves instructions, connection, model and tools to its agent. */
async function agentWorkflow(org: string, stepConfig: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/v1/automation/flows", {
    org,
    body: {
      flow_name: "agent workflow",
      triggers: [{ type: "manual" }],
      actions: [
        {
          id: "think",
          type: "ai_agent",
          config: { input: "{{ trigger.event.text | default: variables.message }}", ...stepConfig },
        },
      ],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function newAgent(org: string, workflowId: string, agentConfig: Record<string, unknown>): Promise<string> {
  const res = await call("POST", "/v1/agents", { org, body: { workflow_id: workflowId, agent_config: agentConfig } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.agent_id;
}

/** The system prompt of a model call: Anthropic's `system`, or OpenAI's system messages. */
const systemOf = (body: any): string =>
  body.system !== undefined
    ? JSON.stringify(body.system)
    : body.messages
        .filter((m: any) => m.role === "system")
        .map((m: any) => m.content)
        .join("\n");

describe("agents that think: agent_config reaches the AI steps", () => {
  it("the step's unset instructions, connection, model and tools come from agent_config", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    const conn = await modelConnection("lookup-then-slow", { org, wire: "anthropic" });
    const wf = await agentWorkflow(org);
    const agentId = await newAgent(org, wf, {
      instructions: "You are the billing desk of ACME. Always look the customer up first.",
      connection_id: conn.id,
      model: "claude-agent-model",
      tools: ["hubspot_get_contact"],
    });
    const run = await call("POST", `/v1/agents/${agentId}/execute`, { org, body: { message: "Who is ada@example.com?" } });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const exec = await driveIn(run.body.execution_id, org);
    expect(exec.execution_status, JSON.stringify(exec.actions[0])).toBe("success");
    const calls = await modelCalls(conn.path);
    expect(calls).toHaveLength(2);
    expect(systemOf(calls[0].body)).toContain("You are the billing desk of ACME.");
    expect(calls[0].body.model).toBe("claude-agent-model");
    expect(calls[0].body.tools.map((t: any) => t.name)).toEqual(["hubspot_get_contact"]);
    expect(exec.actions[0].outputs.steps[1].name).toBe("hubspot_get_contact");
  });

  it("a setting the step gives wins over the agent's", async () => {
    const org = freshOrg();
    const agentConn = await modelConnection("echo-system", { org, name: "agent's model" });
    const stepConn = await modelConnection("echo-system", { org, name: "step's model" });
    const wf = await agentWorkflow(org, { instructions: "Step instructions win.", connection_id: stepConn.id });
    const agentId = await newAgent(org, wf, { instructions: "Agent instructions lose.", connection_id: agentConn.id });
    const run = await call("POST", `/v1/agents/${agentId}/execute`, { org, body: { message: "hi" } });
    const exec = await driveIn(run.body.execution_id, org);
    expect(exec.actions[0].outputs.text).toContain("Step instructions win.");
    expect(await modelCalls(agentConn.path)).toHaveLength(0);
  });

  it("refuses agent_config keys of the wrong type", async () => {
    const org = freshOrg();
    const wf = await agentWorkflow(org);
    for (const bad of [{ tools: "hubspot_get_contact" }, { instructions: 5 }, { connection_id: "" }, { slack_channels: [1] }]) {
      const res = await call("POST", "/v1/agents", { org, body: { workflow_id: wf, agent_config: bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.details[0].path).toContain(`agent_config.${Object.keys(bad)[0]}`);
    }
  });
});

describe("agents on events", () => {
  it("POST /v1/agents/{id}/events starts a run with the event; the same Idempotency-Key starts nothing new", async () => {
    const org = freshOrg();
    const conn = await modelConnection("chat-agent", { org });
    const wf = await agentWorkflow(org);
    const agentId = await newAgent(org, wf, { instructions: "Be kind.", connection_id: conn.id });
    const send = () =>
      call("POST", `/v1/agents/${agentId}/events?source=zendesk`, {
        org,
        body: { text: "My parcel is late", ticket: 77 },
        headers: { "idempotency-key": "zd-77" },
      });
    const first = await send();
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const again = await send();
    expect(again.body.execution_id).toBe(first.body.execution_id);
    const exec = await driveIn(first.body.execution_id, org);
    expect(exec.trigger_event).toMatchObject({
      type: "agent",
      agent_id: agentId,
      source: "event",
      event_source: "zendesk",
      event_id: "zd-77",
    });
    expect(exec.trigger_event.event).toEqual({ text: "My parcel is late", ticket: 77 });
    expect(exec.actions[0].outputs.text).toContain("Reply to: My parcel is late");
    const status = await call("GET", `/v1/agents/${agentId}/status`, { org });
    expect(status.body.execution_count).toBe(1);
  });

  it("refuses unknown agents, another org's, a paused agent and bad bodies", async () => {
    const org = freshOrg();
    const wf = await agentWorkflow(org);
    const agentId = await newAgent(org, wf, {});
    expect((await call("POST", `/v1/agents/nope/events`, { org, body: {} })).status).toBe(404);
    expect((await call("POST", `/v1/agents/${agentId}/events`, { org: freshOrg(), body: {} })).status).toBe(404);
    expect(
      (await call("POST", `/v1/agents/${agentId}/events`, { org, body: [1, 2] as unknown as Record<string, unknown> })).status,
    ).toBe(400);
    expect((await call("POST", `/v1/agents/${agentId}/events?source=Bad Source`, { org, body: {} })).status).toBe(400);
    expect((await call("POST", `/v1/agents/${agentId}/pause`, { org })).status).toBe(200);
    const paused = await call("POST", `/v1/agents/${agentId}/events`, { org, body: { text: "x" } });
    expect(paused.status).toBe(409);
    expect(paused.body.error.code).toBe("AGENT_PAUSED");
  });
});

describe("an agent's Slack Events API request URL", () => {
  const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

  async function slackAgent() {
    const org = freshOrg();
    const conn = await modelConnection("chat-agent", { org });
    const slack = await call("POST", "/v1/connections", {
      org,
      body: {
        platform: "slack",
        name: "acme",
        config: { bot_token: `xoxb-good-${org}`, signing_secret: SECRET, base_url: "http://sink.test/slack" },
      },
    });
    expect(slack.status, JSON.stringify(slack.body)).toBe(201);
    expect(JSON.stringify(slack.body)).not.toContain(SECRET);
    const wf = await agentWorkflow(org);
    const agentId = await newAgent(org, wf, {
      instructions: "Answer in the channel.",
      connection_id: conn.id,
      slack_channels: ["C0SUPPORT"],
    });
    return { org, agentId, conn };
  }

  async function slackPost(agentId: string, payload: unknown, opts: { secret?: string; ts?: number } = {}) {
    const body = JSON.stringify(payload);
    const ts = opts.ts ?? Math.floor(Date.now() / 1000);
    const signature = await signSlack(opts.secret ?? SECRET, ts, body);
    return call("POST", `/v1/agents/${agentId}/slack/events`, {
      token: null,
      rawBody: body,
      headers: { "content-type": "application/json", "x-slack-signature": signature, "x-slack-request-timestamp": String(ts) },
    });
  }

  const message = (text: string, extra: Record<string, unknown> = {}) => ({
    type: "event_callback",
    team_id: "T0001",
    event_id: `Ev${text.length}${extra.channel ?? ""}`,
    event: { type: "message", channel: "C0SUPPORT", user: "U123", text, ts: "1700000000.000100", ...extra },
  });

  it("answers the url_verification challenge", async () => {
    const { agentId } = await slackAgent();
    const res = await slackPost(agentId, {
      type: "url_verification",
      token: "x",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
    expect(res.status).toBe(200);
    expect(res.body.challenge).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
  });

  it("a message in the channel starts the agent, once per Slack event id", async () => {
    const { org, agentId, conn } = await slackAgent();
    const res = await slackPost(agentId, message("Is the API down?"));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.execution_id).toBeTruthy();
    const retry = await slackPost(agentId, message("Is the API down?"));
    expect(retry.body.execution_id).toBe(res.body.execution_id);
    const exec = await driveIn(res.body.execution_id, org);
    expect(exec.execution_status).toBe("success");
    expect(exec.trigger_event.event).toMatchObject({
      text: "Is the API down?",
      channel: "C0SUPPORT",
      user: "U123",
      team_id: "T0001",
    });
    expect(exec.actions[0].outputs.text).toContain("Reply to: Is the API down?");
    expect(systemOf((await modelCalls(conn.path))[0].body)).toContain("Answer in the channel.");
  });

  it("ignores bots, edits and other channels; refuses bad signatures and stale timestamps", async () => {
    const { agentId } = await slackAgent();
    expect((await slackPost(agentId, message("from a bot", { bot_id: "B1" }))).body.ignored).toContain("bot");
    expect((await slackPost(agentId, message("edited", { subtype: "message_changed" }))).body.ignored).toContain("edit");
    expect((await slackPost(agentId, message("elsewhere", { channel: "C0RANDOM" }))).body.ignored).toContain("C0RANDOM");
    const forged = await slackPost(agentId, message("forged"), { secret: "not-the-secret" });
    expect(forged.status).toBe(401);
    const stale = await slackPost(agentId, message("stale"), { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    const unsigned = await call("POST", `/v1/agents/${agentId}/slack/events`, { token: null, body: message("unsigned") });
    expect(unsigned.status).toBe(401);
    expect((await slackPost("no-such-agent", message("x"))).status).toBe(404);
  });
});

describe("Create Chat Agent (seed 002)", () => {
  it("a description becomes a workflow with an ai_agent step and an agent, in one call; the agent answers events", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    const conn = await modelConnection("chat-agent", { org });
    const res = await call("POST", "/v1/workflows/chat-agent", {
      org,
      body: { description: "Answer customer questions in #support; look customers up in HubSpot first." },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { agent, workflow, ignored_tools, usage } = res.body;
    expect(agent.name).toBe("Support Buddy");
    expect(workflow.name).toBe("Support Buddy");
    expect(workflow.status).toBe("active");
    expect(workflow.steps).toHaveLength(1);
    expect(workflow.steps[0].tool).toBe("ai_agent");
    expect(agent.agent_config).toMatchObject({ tools: ["hubspot_get_contact"], connection_id: conn.id });
    expect(agent.agent_config.instructions).toContain("Look customers up in HubSpot");
    expect(ignored_tools).toEqual(["teleport_customer"]);
    expect(usage.total_tokens).toBeGreaterThan(0);

    const event = await call("POST", `/v1/agents/${agent.agent_id}/events`, { org, body: { text: "Where is my refund?" } });
    const exec = await driveIn(event.body.execution_id, org);
    expect(exec.actions[0].outputs.text).toContain("Reply to: Where is my refund? (as instructed: You answer customer questions");
    const report = await call("GET", "/v1/usage/llm?days=1", { org });
    expect(report.body.totals.calls).toBe(2);
  });

  it("takes the caller's name, and refuses bad bodies", async () => {
    const org = freshOrg();
    await modelConnection("chat-agent", { org });
    const named = await call("POST", "/v1/workflows/chat-agent", { org, body: { description: "Greet people", name: "Greeter" } });
    expect(named.status).toBe(201);
    expect(named.body.agent.name).toBe("Greeter");
    expect((await call("POST", "/v1/workflows/chat-agent", { org, body: {} })).status).toBe(400);
    expect((await call("POST", "/v1/workflows/chat-agent", { org, body: { description: "x", extra: 1 } })).status).toBe(400);
    const none = await call("POST", "/v1/workflows/chat-agent", { org: freshOrg(), body: { description: "x" } });
    expect(none.status).toBe(400);
  });
});
