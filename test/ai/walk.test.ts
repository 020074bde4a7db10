import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processEvent } from "../../src/queues/events";
import { call } from "../helpers";
import { recordEvents, sinkReset } from "../support/engine";
import { postHook, standardHeaders } from "../webhooks/support";
import { driveIn, freshOrg, modelCalls, modelConnection, vendorCalls, vendorConnection } from "./support";

/**
 * The walk of docs/ai.md, as a test: a webhook brings a support request → ai_generate classifies it into an
 * output_schema → ai_agent looks the customer up in HubSpot, drafts a reply and asks approval to post it to Slack →
 * approved (as the console's Approve button does) → posted. Its figures (tokens, steps) are printed for the docs.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

let sent: any[] = [];
let restore = () => {};
beforeEach(async () => {
  await sinkReset();
  sent = [];
  ({ restore } = recordEvents({ into: sent }));
});
afterEach(() => restore());

/** The flow of the walk (docs/ai.md shows the same document). */
export const supportFlow = (model: string) => ({
  flow_name: "Support desk",
  triggers: [{ type: "webhook", configuration: { path: "support", secret: SECRET } }],
  actions: [
    {
      id: "classify",
      type: "ai_generate",
      config: {
        connection_id: model,
        system: "Classify the support request.",
        prompt: "{{ trigger.body.message }}",
        output_schema: {
          type: "object",
          required: ["category", "priority", "summary"],
          properties: {
            category: { enum: ["billing", "bug", "question"] },
            priority: { type: "integer", minimum: 1, maximum: 5 },
            summary: { type: "string" },
          },
        },
        max_output_tokens: 300,
      },
    },
    {
      id: "reply",
      type: "ai_agent",
      config: {
        connection_id: model,
        instructions:
          "You are ACME's support desk. Look the customer up in HubSpot, draft a short, kind reply and post it to #support.",
        input:
          "{{ trigger.body.message }} (category {{ actions.classify.outputs.object.category }}, priority {{ actions.classify.outputs.object.priority }})",
        tools: ["hubspot_get_contact", "slack_post_message"],
        max_steps: 6,
        max_total_tokens: 20000,
      },
    },
  ],
});

describe("docs/ai.md walk-through", () => {
  it("webhook → classify → agent looks up, drafts, asks approval → approved → posted", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    await vendorConnection("slack", { org });
    const model = await modelConnection("support-desk", { org });
    const created = await call("POST", "/v1/automation/flows", { org, body: supportFlow(model.id) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const flowId = created.body.id;

    // 1. The webhook brings the request (Standard Webhooks signature).
    const body = JSON.stringify({ message: "I was charged twice for invoice 1042, please refund ASAP. ada@example.com" });
    const hook = await postHook(flowId, "support", { body, headers: await standardHeaders(SECRET, body) });
    expect(hook.status, JSON.stringify(hook.body)).toBe(202);
    const started = (await processEvent(env, sent[0])).started;
    expect(started).toHaveLength(1);
    const id = started[0];

    // 2. It runs until the agent asks to post to Slack.
    const paused = await driveIn(id, org);
    expect(paused.execution_status).toBe("paused");
    const [classify, reply] = paused.actions;
    expect(classify.outputs.object).toMatchObject({ category: "billing", priority: 1 });
    expect(reply.waiting_for_approval).toMatchObject({ tool: "slack_post_message", arguments: { channel: "#support" } });
    expect(await vendorCalls("/slack/", org)).toHaveLength(0);

    // 3. A person approves (the console's Approve button sends this).
    const approved = await call("POST", `/v1/automation/executions/${id}/reply/approval`, {
      org,
      body: { decision: "approve", comment: "Looks good" },
    });
    expect(approved.status).toBe(200);
    const done = await driveIn(id, org);
    expect(done.execution_status).toBe("success");
    const agent = done.actions[1].outputs;
    expect(agent.text).toBe("Posted the reply to #support.");
    const posted = await vendorCalls("/slack/chat.postMessage", org);
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0].body)).toMatchObject({ channel: "#support" });

    // The figures of the walk.
    const steps = agent.steps.map((s: any) =>
      s.type === "tool" ? `tool:${s.name}${s.approval ? `(${s.approval})` : ""}` : "model",
    );
    expect(steps).toEqual(["model", "tool:hubspot_get_contact", "model", "tool:slack_post_message(approved)", "model"]);
    const attempts = done.actions.map((a: any) => a.attempts.map((t: any) => t.outcome));
    expect(attempts).toEqual([["success"], ["success", "success", "success", "paused", "success", "success"]]);
    const classifyUsage = done.actions[0].outputs.usage;
    expect(done.llm_usage.total_tokens).toBe(classifyUsage.total_tokens + agent.usage.total_tokens);
    const report = await call("GET", "/v1/usage/llm?days=1", { org });
    expect(report.body.totals).toMatchObject({ calls: 4, total_tokens: done.llm_usage.total_tokens });
    expect((await modelCalls(model.path)).length).toBe(4);
    console.log(
      `docs/ai.md walk: ai_generate ${JSON.stringify(classifyUsage)}; ai_agent ${JSON.stringify(agent.usage)} over ` +
        `${agent.model_calls} model calls and ${agent.tool_calls} tool calls (${agent.steps.length} steps, ` +
        `${done.actions[1].attempts_total} attempts); execution total ${JSON.stringify(done.llm_usage)}`,
    );
  });
});
