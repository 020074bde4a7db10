import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import type { Env } from "../../src/env";
import { languageModel } from "../../src/llm/model";
import { listLlmProviders, resolveProvider } from "../../src/llm/providers";
import { modelStep } from "../../src/llm/step";
import { call } from "../helpers";
import { llmConnection, newConversation, sinkRequests, streamMessage } from "./support";

/** The Anthropic provider's wire format (scripted Messages API answers) and Workers AI through an `AI` binding. */

beforeEach(async () => {
  await env.DB.exec(
    "DELETE FROM conversation_messages; DELETE FROM conversations; DELETE FROM connections; DELETE FROM tool_audit_log;",
  );
});

describe("anthropic", () => {
  it("speaks the Messages API: x-api-key, tools, tool_use then tool_result, final text", async () => {
    const conn = await llmConnection("tools", { platform: "anthropic" });
    const id = await newConversation("org-a", undefined, ["send_notification", "create_record"]);
    const res = await call("POST", `/v1/conversations/${id}/messages`, { body: { content: "go" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ provider: "anthropic", model: "claude-fake", status: "completed" });
    expect(res.body.content).toMatch(/^Done: /);
    expect(res.body.new_messages.filter((m: any) => m.role === "tool").map((m: any) => [m.tool_call_id, m.tool_success])).toEqual(
      [
        ["toolu_call_n", true],
        ["toolu_call_r", true],
      ],
    );

    const reqs = await sinkRequests(`${conn.path}/messages`);
    expect(reqs).toHaveLength(3);
    expect(reqs[0].headers["x-api-key"]).toBe("sk-ant-good-key");
    expect(reqs[0].headers["anthropic-version"]).toEqual(expect.any(String));
    const first = JSON.parse(reqs[0].body);
    expect(first.system).toEqual([expect.objectContaining({ type: "text", text: expect.stringContaining("automation engine") })]);
    expect(first.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(["send_notification", "create_record"]));
    expect(first.tools[0].input_schema).toEqual(expect.objectContaining({ type: "object" }));
    const second = JSON.parse(reqs[1].body).messages;
    expect(second[1]).toMatchObject({
      role: "assistant",
      content: expect.arrayContaining([
        expect.objectContaining({ type: "tool_use", id: "toolu_call_n", name: "send_notification" }),
      ]),
    });
    expect(second[2].content[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_call_n" });
  });

  it("streams Messages API events into text deltas and tool calls", async () => {
    await llmConnection("tools", { platform: "anthropic" });
    const id = await newConversation("org-a", undefined, ["send_notification", "create_record"]);
    const { events } = await streamMessage(id, { content: "go" });
    expect(events.filter((e) => e.event === "tool-call").map((e) => [e.json.name, e.json.arguments])).toEqual([
      ["send_notification", { user_id: "u-1", title: "Deal summary" }],
      ["create_record", { schema: "task", data: { title: "Follow up" } }],
    ]);
    expect(events.at(-1)!.json.message.content).toMatch(/^Done: /);
  });

  it("reports a refused key as 502 LLM_AUTH_FAILED and tests the connection against /models", async () => {
    const conn = await llmConnection("chat", { platform: "anthropic", config: { api_key: "sk-ant-bad-key" } });
    const id = await newConversation();
    const res = await call("POST", `/v1/conversations/${id}/messages`, { body: { content: "x" } });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("LLM_AUTH_FAILED");
    expect(res.body.error.message).toMatch(/invalid x-api-key/);
    const tested = await call("POST", `/v1/connections/${conn.id}/test`);
    expect(tested.body).toMatchObject({ success: false, error_kind: "auth" });
  });
});

describe("workers ai", () => {
  /** A stand-in for the `AI` binding: records the calls and answers like Workers AI's text models. */
  function fakeAi() {
    const calls: { model: string; inputs: any }[] = [];
    const binding = {
      async run(model: string, inputs: any) {
        calls.push({ model, inputs });
        return { response: "Hello from Workers AI", usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } };
      },
    };
    return { calls, env: { ...env, AI: binding as unknown as Ai } as Env };
  }

  it("is listed and used as the default when bound and no connection exists, and runs in workerd", async () => {
    const ai = fakeAi();
    const listed = await listLlmProviders(ai.env, "org-a");
    expect(listed).toEqual([
      expect.objectContaining({ id: "workers-ai", provider: "workers-ai", is_default: true, source: "binding" }),
    ]);
    const p = await resolveProvider(ai.env, "org-a", null);
    expect(p).toMatchObject({ provider: "workers-ai", model: "@cf/meta/llama-3.1-8b-instruct" });
    const out = await modelStep({
      model: languageModel(ai.env, p),
      instructions: "Be brief.",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(out.text).toBe("Hello from Workers AI");
    expect(ai.calls[0].model).toBe("@cf/meta/llama-3.1-8b-instruct");
    expect(JSON.stringify(ai.calls[0].inputs)).toContain("hi");
  });

  it("yields to a connection as default, stays selectable by name, and is unknown without the binding", async () => {
    await llmConnection("chat");
    const ai = fakeAi();
    const listed = await listLlmProviders(ai.env, "org-a");
    expect(listed.map((p) => [p.provider, p.is_default])).toEqual([
      ["openai", true],
      ["workers-ai", false],
    ]);
    expect((await resolveProvider(ai.env, "org-a", "workers-ai")).provider).toBe("workers-ai");
    await expect(resolveProvider(env as Env, "org-a", "workers-ai")).rejects.toMatchObject({ code: "UNKNOWN_PROVIDER" });
  });
});
