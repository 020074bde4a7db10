import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { call } from "../helpers";
import { keyWith, llmConnection, newConversation } from "./support";

/** GET …/tool-calls and POST …/extract-workflow: a conversation's successful tool calls as a disabled flow. */

beforeEach(async () => {
  await env.DB.exec("DELETE FROM conversation_messages; DELETE FROM conversations; DELETE FROM connections; DELETE FROM flows;");
});

/** A conversation where the model called send_notification, then create_record (both succeeded). */
async function conversationWithTools(org = "org-a"): Promise<string> {
  await llmConnection("tools", { org });
  const id = await newConversation(org, undefined, ["send_notification", "create_record"]);
  const res = await call("POST", `/v1/conversations/${id}/messages`, { org, body: { content: "go" } });
  expect(res.status).toBe(200);
  return id;
}

describe("tool calls and workflow extraction", () => {
  it("lists the tool calls for a preview", async () => {
    const id = await conversationWithTools();
    const res = await call("GET", `/v1/conversations/${id}/tool-calls`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.tool_calls.map((t: any) => [t.name, t.tool_call_id, t.success, t.extractable])).toEqual([
      ["send_notification", "call_n", true, true],
      ["create_record", "call_r", true, true],
    ]);
    expect(res.body.tool_calls[0].arguments).toEqual({ user_id: "u-1", title: "Deal summary" });
  });

  it("turns the successful calls into actions of a disabled flow, parameterizing the chosen fields", async () => {
    const id = await conversationWithTools();
    const res = await call("POST", `/v1/conversations/${id}/extract-workflow`, {
      body: { workflow_name: "Deal digest", description: "From chat", parameterize_fields: ["title"] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: "disabled", variables: { title: "Deal summary" }, skipped: [] });
    expect(res.body.flow).toMatchObject({
      flow_name: "Deal digest",
      description: "From chat",
      enabled: false,
      triggers: [{ type: "manual" }],
    });
    expect(res.body.flow.actions.map((a: any) => [a.type, a.config])).toEqual([
      ["send_notification", { user_id: "u-1", title: "{{ variables.title }}" }],
      ["create_record", { module: "task", data: { title: "Follow up" } }],
    ]);
    expect(res.body.steps.map((s: any) => s.action_id)).toEqual(res.body.flow.actions.map((a: any) => a.id));
    const stored = await call("GET", `/v1/automation/flows/${res.body.workflow_id}`);
    expect(stored.body.enabled).toBe(false);
  });

  it("keeps only the selected steps and skips failed calls", async () => {
    const id = await conversationWithTools();
    const calls = (await call("GET", `/v1/conversations/${id}/tool-calls`)).body.tool_calls;
    const res = await call("POST", `/v1/conversations/${id}/extract-workflow`, {
      body: { workflow_name: "Only the task", selected_step_ids: [calls[1].id] },
    });
    expect(res.status).toBe(201);
    expect(res.body.flow.actions.map((a: any) => a.type)).toEqual(["create_record"]);

    const malformed = await llmConnection("malformed", { name: "m" });
    const failedConv = await newConversation();
    const m = await call("POST", `/v1/conversations/${failedConv}/messages`, { body: { content: "x", provider: malformed.id } });
    expect(m.status).toBe(200);
    const none = await call("POST", `/v1/conversations/${failedConv}/extract-workflow`, { body: { workflow_name: "Nothing" } });
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe("NOTHING_TO_EXTRACT");
    const preview = await call("GET", `/v1/conversations/${failedConv}/tool-calls`);
    expect(preview.body.tool_calls.map((t: any) => [t.success, t.extractable])).toEqual([[false, false]]);
  });

  it("refuses bad input (400) and saves nothing", async () => {
    const id = await conversationWithTools();
    const bad: unknown[] = [
      {},
      { workflow_name: "" },
      { workflow_name: "x", selected_step_ids: ["not-a-step"] },
      { workflow_name: "x", parameterize_fields: ["not a name"] },
      { workflow_name: "x", trigger_type: "teleport" },
      { workflow_name: "x", trigger_type: "schedule", trigger_config: { cron: "never" } },
    ];
    for (const body of bad) {
      const res = await call("POST", `/v1/conversations/${id}/extract-workflow`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const flows = await env.DB.prepare("SELECT COUNT(*) AS n FROM flows").first<{ n: number }>();
    expect(flows?.n).toBe(0);
  });

  it("accepts another trigger type with its configuration", async () => {
    const id = await conversationWithTools();
    const res = await call("POST", `/v1/conversations/${id}/extract-workflow`, {
      body: { workflow_name: "Scheduled", trigger_type: "schedule", trigger_config: { cron: "0 9 * * 1" } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.flow.triggers[0]).toMatchObject({ type: "schedule", configuration: { cron: "0 9 * * 1" } });
  });

  it("answers 404 for another org's conversation and 403 without the scope", async () => {
    const theirs = await conversationWithTools("org-b");
    expect((await call("GET", `/v1/conversations/${theirs}/tool-calls`)).status).toBe(404);
    expect((await call("POST", `/v1/conversations/${theirs}/extract-workflow`, { body: { workflow_name: "x" } })).status).toBe(
      404,
    );
    const id = await conversationWithTools();
    const write = await keyWith(["automations:write"]);
    const read = await keyWith(["automations:read"]);
    expect((await call("GET", `/v1/conversations/${id}/tool-calls`, { token: write })).status).toBe(403);
    // The conversation is the superuser's: a key of another principal sees it only with the admin scope.
    expect((await call("GET", `/v1/conversations/${id}/tool-calls`, { token: read })).status).toBe(404);
    expect(
      (await call("POST", `/v1/conversations/${id}/extract-workflow`, { token: read, body: { workflow_name: "x" } })).status,
    ).toBe(403);
    expect(
      (await call("POST", `/v1/conversations/${id}/extract-workflow`, { token: write, body: { workflow_name: "x" } })).status,
    ).toBe(404);
    const admin = await keyWith(["admin"]);
    expect((await call("GET", `/v1/conversations/${id}/tool-calls`, { token: admin })).status).toBe(200);
    expect(
      (await call("POST", `/v1/conversations/${id}/extract-workflow`, { token: admin, body: { workflow_name: "x" } })).status,
    ).toBe(201);
  });
});
