import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { call } from "../helpers";
import { chatAudit, keyWith, llmConnection, newConversation, sinkRequests, streamMessage } from "./support";

/** Sending messages: the model answers, calls catalog tools (audited), streams over SSE, and fails cleanly. */

beforeEach(async () => {
  await env.DB.exec(
    "DELETE FROM conversation_messages; DELETE FROM conversations; DELETE FROM connections; DELETE FROM tool_audit_log; DELETE FROM notifications;",
  );
});

const AUTO_APPROVE = ["send_notification", "create_record"];

const send = (id: string, body: Record<string, unknown>, org = "org-a") =>
  call("POST", `/v1/conversations/${id}/messages`, { org, body });

describe("sending a message", () => {
  it("answers, sends the history and the API key to the endpoint, and stores both messages", async () => {
    const conn = await llmConnection("chat");
    const id = await newConversation();
    const first = await send(id, { content: "hello" });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({
      role: "assistant",
      content: "Echo: hello",
      status: "completed",
      provider: "openai",
      model: "fake-model",
      tokens_used: 18,
      conversation_id: id,
      seq: 2,
    });
    expect(first.body.new_messages.map((m: any) => m.role)).toEqual(["user", "assistant"]);

    const second = await send(id, { content: "again" });
    expect(second.body.content).toBe("Echo: again");
    const reqs = await sinkRequests(`${conn.path}/chat/completions`);
    expect(reqs).toHaveLength(2);
    expect(reqs[1].headers.authorization).toBe("Bearer sk-good-openai-key");
    const sent = JSON.parse(reqs[1].body);
    expect(sent.model).toBe("fake-model");
    expect(sent.messages.map((m: any) => [m.role, m.content])).toEqual([
      ["system", expect.stringContaining("assistant of an automation engine")],
      ["user", "hello"],
      ["assistant", "Echo: hello"],
      ["user", "again"],
    ]);
    const conv = await call("GET", `/v1/conversations/${id}`);
    expect(conv.body).toMatchObject({ message_count: 4, provider: "openai" });
  });

  it("runs the tools the model calls, round after round, audited, and stores tool messages", async () => {
    const conn = await llmConnection("tools");
    // Write tools run on the model's word only when the conversation auto-approves them (test/security/tool-approval).
    const id = await newConversation("org-a", undefined, AUTO_APPROVE);
    const res = await send(id, { content: "summarise my deals and make a task" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const roles = res.body.new_messages.map((m: any) => `${m.role}:${m.tool_name ?? ""}`);
    expect(roles).toEqual(["user:", "assistant:", "tool:send_notification", "assistant:", "tool:create_record", "assistant:"]);
    const [, call1, note, , record, final] = res.body.new_messages;
    expect(call1.tools_called).toEqual([
      { id: "call_n", name: "send_notification", arguments: { user_id: "u-1", title: "Deal summary" } },
    ]);
    expect(note).toMatchObject({
      tool_call_id: "call_n",
      tool_success: true,
      status: "completed",
      tool_arguments: { user_id: "u-1", title: "Deal summary" },
    });
    expect(JSON.parse(note.content).notification_id).toEqual(expect.any(String));
    expect(record.tool_success).toBe(true);
    expect(final.content).toContain("Done: ");
    expect(final.content).toContain(JSON.parse(note.content).notification_id);

    // The tools really ran: the notification and the record exist.
    const notes = await call("GET", "/v1/notifications?user_id=u-1");
    expect(JSON.stringify(notes.body)).toContain("Deal summary");
    const audit = await chatAudit();
    expect(audit.map((a) => [a.tool, a.outcome]).sort()).toEqual([
      ["create_record", "success"],
      ["send_notification", "success"],
    ]);

    // The model was told about the tools and saw each result in the next round.
    const reqs = await sinkRequests(`${conn.path}/chat/completions`);
    expect(reqs).toHaveLength(3);
    const firstBody = JSON.parse(reqs[0].body);
    expect(firstBody.tools.map((t: any) => t.function.name)).toEqual(
      expect.arrayContaining(["send_notification", "create_record"]),
    );
    const third = JSON.parse(reqs[2].body).messages;
    expect(third.filter((m: any) => m.role === "tool").map((m: any) => m.tool_call_id)).toEqual(["call_n", "call_r"]);
  });

  it("streams text deltas, tool calls, tool results and each stored message as SSE", async () => {
    await llmConnection("tools");
    const id = await newConversation("org-a", undefined, AUTO_APPROVE);
    const { status, events } = await streamMessage(id, { content: "go" });
    expect(status).toBe(200);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("start");
    expect(names.at(-1)).toBe("done");
    expect(names).toContain("text-delta");
    expect(events.filter((e) => e.event === "tool-call").map((e) => e.json.name)).toEqual(["send_notification", "create_record"]);
    const text = events
      .filter((e) => e.event === "text-delta")
      .map((e) => e.json.delta)
      .join("");
    expect(text.startsWith("Notifying.Done: ")).toBe(true);
    const stored = events.filter((e) => e.event === "message").map((e) => e.json);
    expect(stored.map((m) => m.role)).toEqual(["assistant", "tool", "assistant", "tool", "assistant"]);
    expect(stored.every((m) => m.org_id === undefined && m.seq > 1)).toBe(true);
    expect(events.at(-1)!.json.message).toMatchObject({ role: "assistant", status: "completed" });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const messages = await call("GET", `/v1/conversations/${id}/messages`);
    expect(messages.body.total).toBe(6);
  });

  it("tells the model about malformed tool arguments instead of running the tool, and audits the attempt", async () => {
    await llmConnection("malformed");
    const id = await newConversation();
    const res = await send(id, { content: "notify" });
    expect(res.status).toBe(200);
    const tool = res.body.new_messages.find((m: any) => m.role === "tool");
    expect(tool).toMatchObject({ tool_success: false, status: "error", tool_arguments: "{not json" });
    expect(tool.error_message).toMatch(/Invalid tool call/);
    expect(res.body.content).toMatch(/^Recovered after: .*Invalid tool call/);
    expect((await chatAudit()).map((a) => [a.tool, a.outcome])).toEqual([["send_notification", "error"]]);
    const notes = await env.DB.prepare("SELECT COUNT(*) AS n FROM notifications WHERE org_id = 'org-a'").first<{ n: number }>();
    expect(notes?.n).toBe(0);
  });

  it("returns schema errors and unknown tools to the model as failed results", async () => {
    await llmConnection("badargs", { name: "a" });
    const id = await newConversation();
    const bad = await send(id, { content: "notify" });
    const tool = bad.body.new_messages.find((m: any) => m.role === "tool");
    expect(tool.tool_success).toBe(false);
    expect(tool.error_message).toMatch(/arguments\.user_id|arguments\.title/);
    expect(bad.body.content).toMatch(/^Told: /);

    const unknown = await llmConnection("unknown-tool", { name: "b" });
    const id2 = await newConversation();
    const res = await send(id2, { content: "x", provider: unknown.id });
    const t2 = res.body.new_messages.find((m: any) => m.role === "tool");
    expect(t2).toMatchObject({ tool_name: "does_not_exist", tool_success: false });
    expect(t2.error_message).toMatch(/does_not_exist/);
    expect((await chatAudit()).map((a) => a.outcome)).toEqual(["error", "error"]);
  });

  it("stops a model that keeps calling tools after LLM_MAX_TOOL_STEPS rounds", async () => {
    const conn = await llmConnection("loop");
    const id = await newConversation("org-a", undefined, AUTO_APPROVE);
    const res = await send(id, { content: "loop forever" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: "assistant", status: "incomplete" });
    expect(res.body.error_message).toMatch(/LLM_MAX_TOOL_STEPS/);
    const tools = res.body.new_messages.filter((m: any) => m.role === "tool");
    expect(tools).toHaveLength(8);
    expect(await sinkRequests(`${conn.path}/chat/completions`)).toHaveLength(9);
    // The unanswered calls of the last round are left out of the next turn's context.
    const next = await llmConnection("chat");
    const again = await send(id, { content: "stop", provider: next.id });
    expect(again.status).toBe(200);
    const ctx = JSON.parse((await sinkRequests(`${next.path}/chat/completions`))[0].body).messages;
    const calls = ctx.flatMap((m: any) => m.tool_calls ?? []).map((c: any) => c.id);
    const results = ctx.filter((m: any) => m.role === "tool").map((m: any) => m.tool_call_id);
    expect(calls).toEqual(results);
  });

  it("stores a refusal as a refused message", async () => {
    await llmConnection("refusal");
    const id = await newConversation();
    const res = await send(id, { content: "do something bad" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "refused", content: "I can't help with that." });
  });

  it("answers 504 on a timeout and 502 on provider failures, storing the failed answer", async () => {
    await llmConnection("slow", { config: { timeout_ms: 300 } });
    const id = await newConversation();
    const slow = await send(id, { content: "take your time" });
    expect(slow.status).toBe(504);
    expect(slow.body.error.code).toBe("LLM_TIMEOUT");
    const stored = await call("GET", `/v1/conversations/${id}/messages`);
    expect(stored.body.results.map((m: any) => [m.role, m.status])).toEqual([
      ["user", "completed"],
      ["assistant", "error"],
    ]);
    expect(stored.body.results[1].error_message).toMatch(/did not answer in time/);

    const broken = await llmConnection("error500");
    const e500 = await send(id, { content: "x", provider: broken.id });
    expect(e500.status).toBe(502);
    expect(e500.body.error).toMatchObject({ code: "LLM_PROVIDER_ERROR" });
    expect(e500.body.error.message).toMatch(/HTTP 500.*upstream exploded/);

    const denied = await llmConnection("unauthorized");
    const e401 = await send(id, { content: "x", provider: denied.id });
    expect(e401.status).toBe(502);
    expect(e401.body.error.code).toBe("LLM_AUTH_FAILED");

    // The conversation is free again after each failure.
    const ok = await llmConnection("chat");
    expect((await send(id, { content: "fine", provider: ok.id })).status).toBe(200);
  });

  it("streams a failure as an error event followed by done", async () => {
    await llmConnection("error500");
    const id = await newConversation();
    const { status, events } = await streamMessage(id, { content: "x" });
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(["start", "message", "error", "done"]);
    expect(events[2].json.code).toBe("LLM_PROVIDER_ERROR");
    expect(events[3].json.message.status).toBe("error");
  });

  it("refuses a second message while one is being answered (409) and changes nothing", async () => {
    await llmConnection("chat");
    const id = await newConversation();
    await env.DB.prepare("UPDATE conversations SET busy_until = ? WHERE id = ?")
      .bind(Date.now() + 60_000, id)
      .run();
    const res = await send(id, { content: "hi" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONVERSATION_BUSY");
    expect((await call("GET", `/v1/conversations/${id}`)).body.message_count).toBe(0);
    // A lapsed hold (a crashed turn) does not block.
    await env.DB.prepare("UPDATE conversations SET busy_until = ? WHERE id = ?")
      .bind(Date.now() - 1, id)
      .run();
    expect((await send(id, { content: "hi" })).status).toBe(200);
  });

  it("tool calls need the sender's automations:trigger scope, which sending already requires", async () => {
    await llmConnection("tools");
    // The conversation is the key's own (conversations belong to whoever started them).
    const key = await keyWith(["automations:write", "automations:trigger"]);
    const created = await call("POST", "/v1/conversations", { token: key, body: { auto_approve_tools: AUTO_APPROVE } });
    const id = created.body.id;
    const res = await call("POST", `/v1/conversations/${id}/messages`, { token: key, body: { content: "go" } });
    expect(res.status).toBe(200);
    expect((await chatAudit()).every((a) => a.actor.startsWith("api_key:"))).toBe(true);
  });
});

describe("choosing the provider", () => {
  it("uses the provider field (connection id, platform or model), else the is_default connection, else the first", async () => {
    const a = await llmConnection("chat", { name: "first" });
    const b = await llmConnection("chat", { name: "marked", config: { model: "other-model", is_default: true } });
    const id = await newConversation();
    expect((await send(id, { content: "1" })).body.model).toBe("other-model");
    expect((await send(id, { content: "2", provider: a.id })).body.model).toBe("fake-model");
    expect((await send(id, { content: "3", provider: "fake-model" })).body.model).toBe("fake-model");
    expect((await send(id, { content: "4", provider: "openai" })).body.model).toBe("other-model");
    expect(await sinkRequests(`${b.path}/chat/completions`)).toHaveLength(2);

    const providers = await call("GET", "/v1/llm/providers");
    expect(providers.status).toBe(200);
    expect(providers.body.default_provider).toBe(b.id);
    expect(providers.body.providers.map((p: any) => [p.id, p.is_default, p.source])).toEqual([
      [a.id, false, "connection"],
      [b.id, true, "connection"],
    ]);
    expect(JSON.stringify(providers.body)).not.toContain("sk-good-openai-key");
  });

  it("refuses an unknown provider (400), another org's connection like an unknown one, and no provider at all (409)", async () => {
    const id = await newConversation();
    const none = await send(id, { content: "hi" });
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe("NO_LLM_PROVIDER");
    const theirs = await llmConnection("chat", { org: "org-b" });
    await llmConnection("chat");
    for (const provider of [theirs.id, "gemini", "00000000-0000-0000-0000-000000000000"]) {
      const res = await send(id, { content: "hi", provider });
      expect(res.status, provider).toBe(400);
      expect(res.body.error.code).toBe("UNKNOWN_PROVIDER");
      expect(res.body.error.details[0].path).toBe("provider");
    }
    expect((await call("GET", `/v1/conversations/${id}`)).body.message_count).toBe(0);
    expect(await sinkRequests(theirs.path)).toHaveLength(0);
  });
});
