import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { sinkReset } from "../support/engine";
import { driveIn, freshOrg, modelCalls, modelConnection, runOne, vendorCalls, vendorConnection, type Wire } from "./support";

beforeEach(sinkReset);

const TICKET = "Customer ada@example.com was charged twice for invoice 1042.";

async function approve(executionId: string, actionId: string, body: Record<string, unknown>, org = "org-a") {
  return call("POST", `/v1/automation/executions/${executionId}/${actionId}/approval`, { org, body });
}

describe("ai_agent: a durable tool loop", () => {
  for (const wire of ["openai", "anthropic"] as Wire[])
    it(`runs model turns and tool calls as steps, each its own attempt (${wire})`, async () => {
      const org = freshOrg();
      await vendorConnection("hubspot", { org });
      const conn = await modelConnection("lookup-then-slow", { wire, org });
      const exec = await runOne(
        {
          type: "ai_agent",
          config: { connection_id: conn.id, input: TICKET, tools: ["hubspot_get_contact"], stream: wire === "anthropic" },
        },
        org,
      );
      expect(exec.execution_status, JSON.stringify(exec.actions[0])).toBe("success");
      const a = exec.actions[0];
      expect(a.outputs.text).toContain("Ada");
      expect(a.outputs.steps.map((s: any) => s.type)).toEqual(["model", "tool", "model"]);
      expect(a.outputs.steps[1]).toMatchObject({
        name: "hubspot_get_contact",
        success: true,
        arguments: { contact_id: "ada@example.com" },
      });
      expect(a.outputs.model_calls).toBe(2);
      expect(a.outputs.tool_calls).toBe(1);
      expect(a.attempts.map((t: any) => t.outcome)).toEqual(["success", "success", "success"]);
      const calls = await modelCalls(conn.path);
      expect(calls.map((c) => c.headers["idempotency-key"])).toEqual([`${exec.id}:ai:step-0`, `${exec.id}:ai:step-2`]);
      const sum = a.outputs.steps
        .filter((s: any) => s.type === "model")
        .reduce((n: number, s: any) => n + s.usage.total_tokens, 0);
      expect(a.outputs.usage.total_tokens).toBe(sum);
      expect(await vendorCalls("/hubspot/crm/v3/objects/contacts/ada%40example.com", org)).toHaveLength(1);
      const audit = await call("GET", "/v1/tools/audit?size=100", { org });
      expect(audit.body.results.some((r: any) => r.via === "ai_agent" && r.tool === "hubspot_get_contact")).toBe(true);
    });

  it("refuses a tool that is not in the catalog (BAD_CONFIG), sending nothing", async () => {
    const conn = await modelConnection("lookup-then-slow");
    const exec = await runOne({ type: "ai_agent", config: { connection_id: conn.id, input: "x", tools: ["no_such_tool"] } });
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG" });
    expect(exec.actions[0].error_output.error_reason).toContain("no_such_tool");
    expect(await modelCalls(conn.path)).toHaveLength(0);
  });
});

describe("ai_agent approvals", () => {
  async function pausedRun(org = freshOrg()) {
    await vendorConnection("hubspot", { org });
    await vendorConnection("slack", { org });
    const conn = await modelConnection("support-agent", { org });
    const flow = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "support agent",
        triggers: [{ type: "manual" }],
        actions: [
          {
            id: "agent",
            type: "ai_agent",
            config: { connection_id: conn.id, input: TICKET, tools: ["hubspot_get_contact", "slack_post_message"] },
          },
        ],
      },
    });
    const start = await call("POST", "/v1/automation/executions", { org, body: { flow_id: flow.body.id, entity_id: "none" } });
    const exec = await driveIn(start.body.id, org);
    return { exec, conn, org };
  }

  it("pauses on a write tool, showing the tool and its arguments; a read tool runs without asking", async () => {
    const { exec, org } = await pausedRun();
    expect(exec.execution_status).toBe("paused");
    const a = exec.actions[0];
    expect(a.execution_status).toBe("paused");
    expect(a.waiting_for_approval).toMatchObject({ tool: "slack_post_message", tool_call_id: "call_post" });
    expect(a.waiting_for_approval.arguments.channel).toBe("#support");
    expect(a.outputs.steps.map((s: any) => `${s.type}:${s.name ?? ""}`)).toEqual([
      "model:",
      "tool:hubspot_get_contact",
      "model:",
    ]);
    expect(a.attempts.at(-1).outcome).toBe("paused");
    expect(await vendorCalls("/slack/chat.postMessage", org)).toHaveLength(0);
    // The public resume cannot end an approval pause.
    const resume = await call("POST", "/v1/automation/public/executions:resume", { body: { resume_token: `${exec.id}.x` } });
    expect(resume.status).toBe(400);
  });

  it("approve runs the call and the loop goes on to the end", async () => {
    const { exec, org } = await pausedRun();
    const res = await approve(exec.id, "agent", { decision: "approve", comment: "ok" }, org);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = await driveIn(exec.id, org);
    expect(done.execution_status).toBe("success");
    const a = done.actions[0];
    expect(a.outputs.text).toBe("Posted the reply to #support.");
    expect(a.outputs.steps[3]).toMatchObject({ type: "tool", name: "slack_post_message", success: true, approval: "approved" });
    const posted = await vendorCalls("/slack/chat.postMessage", org);
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0].body).text).toContain("Hi Ada");
    expect(a.waiting_for_approval).toBeUndefined();
    // A second decision finds nothing waiting.
    expect((await approve(exec.id, "agent", { decision: "approve" }, org)).status).toBe(409);
  });

  it("reject tells the model it was refused (with the comment) and sends nothing", async () => {
    const { exec, conn, org } = await pausedRun();
    expect((await approve(exec.id, "agent", { decision: "reject", comment: "Wrong channel" }, org)).status).toBe(200);
    const done = await driveIn(exec.id, org);
    expect(done.execution_status).toBe("success");
    expect(done.actions[0].outputs.text).toBe("The reply was not posted: the request was refused.");
    expect(done.actions[0].outputs.steps[3]).toMatchObject({
      name: "slack_post_message",
      success: false,
      approval: "rejected",
      comment: "Wrong channel",
    });
    expect(await vendorCalls("/slack/chat.postMessage", org)).toHaveLength(0);
    const last = (await modelCalls(conn.path)).at(-1)!;
    expect(JSON.stringify(last.body.messages)).toContain("Wrong channel");
  });

  it("refuses bad decisions, unknown actions and another org's execution", async () => {
    const { exec, org } = await pausedRun();
    expect((await approve(exec.id, "agent", { decision: "maybe" }, org)).status).toBe(400);
    expect((await approve(exec.id, "agent", { decision: "approve", extra: 1 }, org)).status).toBe(400);
    expect((await approve(exec.id, "nope", { decision: "approve" }, org)).status).toBe(404);
    expect((await approve(exec.id, "agent", { decision: "approve" }, "org-b")).status).toBe(404);
    const res = await call("POST", `/v1/automation/executions/${exec.id}/agent/approval`, {
      org,
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
  });

  it("auto approval runs write tools without asking", async () => {
    const conn = await modelConnection("two-notes");
    const exec = await runOne({
      type: "ai_agent",
      config: { connection_id: conn.id, input: "notify twice", tools: ["send_notification"], approval: "auto" },
    });
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs.tool_calls).toBe(2);
    expect(exec.actions[0].outputs.text).toContain("notification_id");
  });
});

describe("ai_agent budgets", () => {
  it("stops at max_total_tokens with BUDGET_EXCEEDED and sends nothing more", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    const conn = await modelConnection("forever", { org });
    const exec = await runOne(
      {
        type: "ai_agent",
        config: { connection_id: conn.id, input: "loop", tools: ["hubspot_get_contact"], max_total_tokens: 150, max_steps: 20 },
      },
      org,
    );
    expect(exec.execution_status).toBe("failed");
    const a = exec.actions[0];
    expect(a.error_output.error_code).toBe("BUDGET_EXCEEDED");
    expect(a.error_output.error_info.usage.total_tokens).toBeGreaterThanOrEqual(150);
    const calls = await modelCalls(conn.path);
    const lookups = await vendorCalls("/hubspot/", org);
    // The call that crossed the budget asked for a tool: it is not run.
    expect(lookups.length).toBe(calls.length - 1);
    expect(calls.length).toBeLessThan(20);
  });

  it("stops at max_steps", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    const conn = await modelConnection("forever", { org });
    const exec = await runOne(
      { type: "ai_agent", config: { connection_id: conn.id, input: "loop", tools: ["hubspot_get_contact"], max_steps: 2 } },
      org,
    );
    expect(exec.actions[0].error_output.error_code).toBe("BUDGET_EXCEEDED");
    expect(exec.actions[0].error_output.error_reason).toContain("max_steps (2)");
    expect(await modelCalls(conn.path)).toHaveLength(2);
  });

  it("stops when the organization's daily budget (its plan's) is spent", async () => {
    const org = `org-budget-${Date.now()}`;
    const reg = await call("POST", "/v1/organizations", { body: { id: org, name: "Budget" } });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect((await call("PUT", `/v1/organizations/${org}/plan`, { body: { plan: "free" } })).status).toBe(200);
    const conn = await modelConnection("classify", { org });
    const first = await runOne({ type: "ai_generate", config: { connection_id: conn.id, prompt: "ticket" } }, org);
    expect(first.execution_status).toBe("success");
    const usage = await call("GET", "/v1/usage/llm", { org });
    expect(usage.body.daily_budget).toBe(50_000);
    expect(usage.body.totals.total_tokens).toBe(first.actions[0].outputs.usage.total_tokens);
    // Spend the rest of today's budget behind the engine's back.
    const { env } = await import("cloudflare:test");
    await env.DB.prepare(`UPDATE llm_usage SET total_tokens = 50000 WHERE org_id = ?`).bind(org).run();
    const second = await runOne({ type: "ai_generate", config: { connection_id: conn.id, prompt: "ticket" } }, org);
    expect(second.actions[0].error_output.error_code).toBe("BUDGET_EXCEEDED");
    expect(second.actions[0].error_output.error_reason).toContain("daily token budget (50000");
    expect(await modelCalls(conn.path)).toHaveLength(1);
  });
});
