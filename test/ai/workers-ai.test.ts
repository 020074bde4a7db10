import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { aiAgentAction } from "../../src/actions/ai-agent";
import { aiGenerateAction } from "../../src/actions/ai-generate";
import type { ActionContext, ActionResult } from "../../src/actions/types";
import type { Env } from "../../src/env";
import { AiAgentConfig, AiGenerateConfig } from "../../src/schemas/actions/ai";
import { call } from "../helpers";
import { script, type Transcript, type Turn } from "./scripted-model";
import { freshOrg } from "./support";

/**
 * Workers AI as the AI steps' model (connection_id `workers-ai`): the steps reach it through the Worker's `AI`
 * binding (workers-ai-provider, `env.AI.run(model, {messages, tools, …})`). The test runtime has no such binding
 * and no network, so a scripted stand-in of the binding, answering with test/ai/scripted-model.ts's scripts in
 * Workers AI's output shape, is put into the env the action runs with (ActionContext.env). Without the binding, a
 * flow naming Workers AI is refused on save and a step naming it fails with a clear reason.
 */

type Json = Record<string, any>;

const textOf = (content: unknown): string =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((b: Json) => b.text ?? "").join("") : "";

/** The binding stand-in: `run(model, inputs)` answers the conversation of `inputs` with `name`'s script. */
function scriptedAi(name: string) {
  const calls: { model: string; inputs: Json }[] = [];
  const binding = {
    async run(model: string, inputs: Json) {
      calls.push({ model, inputs: structuredClone(inputs) });
      const messages: Json[] = inputs.messages ?? [];
      const t: Transcript = {
        system: messages
          .filter((m) => m.role === "system")
          .map((m) => textOf(m.content))
          .join("\n"),
        users: messages.filter((m) => m.role === "user").map((m) => textOf(m.content)),
        results: messages.filter((m) => m.role === "tool").map((m) => textOf(m.content)),
        turns: messages.filter((m) => m.role === "assistant").length,
        tools: (inputs.tools ?? []).map((tool: Json) => tool.function?.name ?? tool.name),
      };
      const turn: Turn = script(name, t);
      const input = Math.ceil(JSON.stringify(messages).length / 4);
      const output = Math.ceil(JSON.stringify(turn).length / 4);
      return {
        response: turn.text ?? "",
        ...(turn.calls
          ? {
              tool_calls: turn.calls.map((c) => ({
                id: c.id,
                type: "function",
                function: { name: c.name, arguments: JSON.stringify(c.args) },
              })),
            }
          : {}),
        usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
      };
    },
  };
  return { calls, env: { ...env, AI: binding as unknown as Ai } as Env };
}

/** What an action of an execution sees, with `runEnv` as its bindings. */
function actionContext(runEnv: Env, orgId: string, progress?: unknown): ActionContext {
  const executionId = crypto.randomUUID();
  return {
    env: runEnv,
    orgId,
    executionId,
    flowId: "flow-workers-ai",
    actionId: "ai",
    attempt: 1,
    idempotencyKey: `${executionId}:ai`,
    now: Date.now(),
    depth: 0,
    entityId: "",
    entity: null,
    triggerEvent: { type: "manual" },
    issueResumeToken: async () => ({ token: "t", hash: "h" }),
    templateContext: () => ({}) as ReturnType<ActionContext["templateContext"]>,
    ...(progress !== undefined ? { progress } : {}),
  };
}

const TICKET = "Customer ada@example.com was charged twice for invoice 1042, please refund ASAP.";

const CLASSIFICATION = {
  type: "object",
  properties: {
    category: { type: "string", enum: ["billing", "bug", "question"] },
    priority: { type: "integer", minimum: 1, maximum: 5 },
    summary: { type: "string" },
  },
  required: ["category", "priority", "summary"],
};

describe("Workers AI through the AI binding", () => {
  it("ai_generate: a structured answer with a repair, on the default model, usage from the binding's counts", async () => {
    const ai = scriptedAi("classify-repair");
    const org = freshOrg();
    const cfg = AiGenerateConfig.parse({ connection_id: "workers-ai", prompt: TICKET, output_schema: CLASSIFICATION });
    const res = (await aiGenerateAction.run(actionContext(ai.env, org), cfg)) as ActionResult & { outputs: Json };
    expect(res.kind, JSON.stringify(res)).toBe("success");
    expect(res.outputs).toMatchObject({
      object: { category: "billing", priority: 1 },
      provider: "workers-ai",
      model: "@cf/meta/llama-3.1-8b-instruct",
      repairs: 1,
    });
    expect(ai.calls).toHaveLength(2);
    expect(ai.calls.every((c) => c.model === "@cf/meta/llama-3.1-8b-instruct")).toBe(true);
    const [first, repair] = ai.calls;
    expect(first.inputs.messages[0]).toMatchObject({ role: "system" });
    expect(first.inputs.messages[0].content).toContain('"priority"');
    expect(first.inputs.messages.at(-1)).toMatchObject({ role: "user", content: TICKET });
    expect(textOf(repair.inputs.messages.at(-1).content)).toContain("did not match the required JSON Schema");
    const usage = ai.calls.reduce((n, c) => n + Math.ceil(JSON.stringify(c.inputs.messages).length / 4), 0);
    expect(res.outputs.usage.input_tokens).toBe(usage);
    const byDay = await call("GET", "/v1/usage/llm?days=1", { org });
    expect(JSON.stringify(byDay.body)).toContain("workers-ai");
  });

  it("ai_generate: the step's model is the one run; max_output_tokens and temperature reach the binding", async () => {
    const ai = scriptedAi("echo-system");
    const cfg = AiGenerateConfig.parse({
      connection_id: "workers-ai",
      model: "@cf/qwen/qwen2.5-coder-32b-instruct",
      system: "Be terse.",
      prompt: "hi",
      max_output_tokens: 77,
      temperature: 0.2,
    });
    const res = (await aiGenerateAction.run(actionContext(ai.env, freshOrg()), cfg)) as ActionResult & { outputs: Json };
    expect(res.outputs).toMatchObject({ text: "system: Be terse.", model: "@cf/qwen/qwen2.5-coder-32b-instruct" });
    expect(ai.calls[0]).toMatchObject({
      model: "@cf/qwen/qwen2.5-coder-32b-instruct",
      inputs: { max_tokens: 77, temperature: 0.2 },
    });
  });

  it("ai_agent: a tool loop on Workers AI, one step per model call and per tool call, tool results sent back", async () => {
    const ai = scriptedAi("two-notes");
    const org = freshOrg();
    const cfg = AiAgentConfig.parse({
      connection_id: "workers-ai",
      input: "Send the two notes",
      tools: ["send_notification"],
      approval: "auto",
      max_steps: 3,
    });
    let progress: unknown;
    const kinds: string[] = [];
    let res: ActionResult & { outputs?: Json } = { kind: "success", outputs: {} };
    for (let i = 0; i < 6; i++) {
      res = await aiAgentAction.run(actionContext(ai.env, org, progress), cfg);
      kinds.push(res.kind);
      if (res.kind !== "step") break;
      progress = res.progress;
    }
    expect(kinds).toEqual(["step", "step", "step", "success"]);
    expect(res.outputs!.steps.map((s: Json) => `${s.type}:${s.name ?? ""}:${s.success ?? ""}`)).toEqual([
      "model::",
      "tool:send_notification:true",
      "tool:send_notification:true",
      "model::",
    ]);
    expect(res.outputs).toMatchObject({ provider: "workers-ai", model_calls: 2, tool_calls: 2 });
    expect(res.outputs!.text).toContain("notification_id");
    // The binding was offered the tool and got both results back in the second call.
    expect(ai.calls[0].inputs.tools.map((t: Json) => t.function?.name ?? t.name)).toEqual(["send_notification"]);
    expect(ai.calls[1].inputs.messages.filter((m: Json) => m.role === "tool")).toHaveLength(2);
    const inbox = await call("GET", "/v1/notifications?user_id=u-1", { org });
    expect(inbox.body.results.map((n: Json) => n.title).sort()).toEqual(["First", "Second"]);
  });
});

describe("Workers AI without the binding", () => {
  it("a flow naming workers-ai is refused on save, naming the field and the binding", async () => {
    const org = freshOrg();
    const res = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "needs workers ai",
        triggers: [{ type: "manual" }],
        actions: [
          { id: "gen", type: "ai_generate", config: { prompt: "hi" } },
          { id: "agent", type: "ai_agent", config: { connection_id: "workers-ai", input: "hi" } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ path: "actions.1.config.connection_id", code: "workers_ai_unbound" }),
    ]);
    expect(res.body.error.details[0].message).toContain('[ai] binding = "AI"');
    const listed = await call("GET", "/v1/automation/flows", { org });
    expect(listed.body.results ?? listed.body.flows).toEqual([]);
  });

  it("a step naming workers-ai fails BAD_CONFIG with the reason, sending nothing", async () => {
    const cfg = AiGenerateConfig.parse({ connection_id: "workers-ai", prompt: "hi" });
    const res = await aiGenerateAction.run(actionContext(env as Env, freshOrg()), cfg);
    expect(res).toMatchObject({ kind: "failed", retry: "never", error: { error_code: "BAD_CONFIG" } });
    expect((res as Json).error.error_reason).toContain("no AI binding");
  });
});
