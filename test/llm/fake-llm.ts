/**
 * A fake LLM server for the tests (answered by the test sink, Miniflare's outbound service: a Worker of its own, see
 * test/support/sink.ts). No state: every answer follows from the URL's scenario and the request itself (how many
 * tool results follow the last user message, whether a repair was asked for), so tests running side by side cannot
 * disturb each other. Paths:
 *   /llm/<scenario>/<tag>/chat/completions | /models          OpenAI-compatible (stream or not)
 *   /anthropic/<scenario>/<tag>/messages | /models            Anthropic Messages API (stream or not)
 *   /ollama/<scenario>/<tag>/api/tags | /api/version | /v1/…  Ollama (its /v1 is the OpenAI fake, scenario "chat")
 * <tag> is free: tests use it to find their own requests in the sink's log.
 */

import { type AnthropicBlock, anthropicSse } from "../support/anthropic-sse";

type Json = Record<string, any>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** A valid flow in the native shape (manual trigger, one core action). */
export const VALID_FLOW = {
  flow_name: "Proposed flow",
  description: "Notify the team",
  triggers: [{ type: "manual" }],
  actions: [{ name: "Notify", type: "send_notification", config: { user_id: "u-1", title: "Weekly summary" } }],
};
/** Fails the schema: an unknown action type and no triggers. */
const SCHEMA_INVALID_FLOW = { flow_name: "Broken", actions: [{ type: "teleport", config: {} }] };
/** Passes the schema, fails the write path's checks: a webhook trigger without a secret. */
const WRITE_INVALID_FLOW = {
  flow_name: "Unsigned hook",
  triggers: [{ type: "webhook", configuration: { path: "hook" } }],
  actions: VALID_FLOW.actions,
};

type Turn = { text?: string; refusal?: string; finish?: string; calls?: { id: string; name: string; args: string }[] };

const lastUserIndex = (messages: Json[]) => messages.map((m) => m.role).lastIndexOf("user");

/** Tool results since the user's last message (OpenAI: role tool; Anthropic: tool_result blocks in user messages). */
function toolResultsSinceUser(messages: Json[]): string[] {
  const out: string[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role === "tool") out.unshift(String(m.content));
    else if (Array.isArray(m.content) && m.content.some((b: Json) => b.type === "tool_result")) {
      for (const b of m.content)
        if (b.type === "tool_result") out.unshift(typeof b.content === "string" ? b.content : JSON.stringify(b.content));
    } else if (m.role === "user") break;
  }
  return out;
}

const textOf = (m: Json | undefined): string =>
  !m ? "" : typeof m.content === "string" ? m.content : (m.content ?? []).map((b: Json) => b.text ?? "").join("");

/** What the model "says" for a scenario. */
function script(scenario: string, messages: Json[]): Turn {
  const results = toolResultsSinceUser(messages);
  const lastUser = textOf(messages[lastUserIndex(messages)]);
  const fence = (v: unknown) => ({ text: "Here is the flow:\n```json\n" + JSON.stringify(v) + "\n```" });
  const repairs = messages.filter((m) => textOf(m).startsWith("That flow is invalid")).length;
  switch (scenario) {
    case "chat":
      return { text: `Echo: ${lastUser}` };
    case "tools":
      if (results.length === 0)
        return {
          text: "Notifying.",
          calls: [{ id: "call_n", name: "send_notification", args: '{"user_id":"u-1","title":"Deal summary"}' }],
        };
      if (results.length === 1)
        return { calls: [{ id: "call_r", name: "create_record", args: '{"schema":"task","data":{"title":"Follow up"}}' }] };
      return { text: `Done: ${results.join(" | ")}` };
    case "read-tool":
      // A read tool (its arguments from the user's message: a record id), then an answer quoting the result.
      if (results.length === 0)
        return { calls: [{ id: "call_get", name: "get_record", args: JSON.stringify({ id: lastUser }) }] };
      return { text: `Read: ${results.join(" | ")}` };
    case "mixed":
      // A read and a write in one round.
      if (results.length === 0)
        return {
          calls: [
            { id: "call_get", name: "get_record", args: JSON.stringify({ id: lastUser }) },
            { id: "call_n", name: "send_notification", args: '{"user_id":"u-1","title":"After reading"}' },
          ],
        };
      return { text: `Done: ${results.join(" | ")}` };
    case "malformed":
      if (results.length === 0) return { calls: [{ id: "call_bad", name: "send_notification", args: "{not json" }] };
      return { text: `Recovered after: ${results[0]}` };
    case "badargs":
      if (results.length === 0) return { calls: [{ id: "call_bad", name: "send_notification", args: '{"title":42}' }] };
      return { text: `Told: ${results[0]}` };
    case "unknown-tool":
      if (results.length === 0) return { calls: [{ id: "call_x", name: "does_not_exist", args: "{}" }] };
      return { text: `Told: ${results[0]}` };
    case "loop":
      return { calls: [{ id: `call_${results.length}`, name: "send_notification", args: '{"user_id":"u-1","title":"Again"}' }] };
    case "refusal":
      return { refusal: "I can't help with that.", finish: "content_filter" };
    case "gen-valid":
      return fence(VALID_FLOW);
    case "gen-repair":
      return fence(repairs === 0 ? SCHEMA_INVALID_FLOW : repairs === 1 ? WRITE_INVALID_FLOW : VALID_FLOW);
    case "gen-never":
      return fence(SCHEMA_INVALID_FLOW);
    case "gen-refuse":
      return { text: "I cannot design that automation." };
    case "intent":
      return {
        text: JSON.stringify({
          intent: "action",
          requires_tools: true,
          confidence: 0.9,
          explanation: "The user wants a notification sent now",
          suggested_tools: ["send_notification", "made_up_tool"],
        }),
      };
    case "explain":
      return {
        text:
          "```json\n" +
          JSON.stringify({
            tools: [
              { name: "send_notification", reason: "to notify" },
              { name: "ghost_tool", reason: "imaginary" },
            ],
            explanation: "Only a notification is needed",
          }) +
          "\n```",
      };
    case "garbage":
      return { text: "not json at all" };
    default:
      return { text: `unknown scenario ${scenario}` };
  }
}

// ---------- OpenAI-compatible ----------

function openaiMessage(t: Turn) {
  return {
    role: "assistant",
    content: t.text ?? null,
    ...(t.refusal ? { refusal: t.refusal } : {}),
    ...(t.calls
      ? { tool_calls: t.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.args } })) }
      : {}),
  };
}
const openaiFinish = (t: Turn) => t.finish ?? (t.calls ? "tool_calls" : "stop");
const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

function openaiStream(t: Turn, model: string): Response {
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model };
  const chunks: Json[] = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }];
  const text = t.text ?? t.refusal ?? "";
  for (let i = 0; i < text.length; i += 5)
    chunks.push({ ...base, choices: [{ index: 0, delta: { content: text.slice(i, i + 5) }, finish_reason: null }] });
  t.calls?.forEach((c, index) => {
    const half = Math.floor(c.args.length / 2);
    chunks.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: c.args.slice(0, half) } }],
          },
          finish_reason: null,
        },
      ],
    });
    chunks.push({
      ...base,
      choices: [
        { index: 0, delta: { tool_calls: [{ index, function: { arguments: c.args.slice(half) } }] }, finish_reason: null },
      ],
    });
  });
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: openaiFinish(t) }], usage: USAGE });
  const body = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

async function openai(scenario: string, rest: string[], req: Request, body: Json): Promise<Response> {
  if (scenario === "down") return json(503, { error: { message: "service unavailable" } });
  if (scenario === "unauthorized" || (req.headers.get("authorization") ?? "").includes("bad"))
    return json(401, {
      error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" },
    });
  if (rest.join("/") === "models")
    return json(200, {
      object: "list",
      data: [
        { id: "fake-model", object: "model" },
        { id: "other-model", object: "model" },
      ],
    });
  if (rest.join("/") !== "chat/completions") return json(404, { error: { message: "no such path" } });
  if (scenario === "error500") return json(500, { error: { message: "upstream exploded", type: "server_error" } });
  if (scenario === "slow") await new Promise((r) => setTimeout(r, 3000));
  const turn = script(scenario, body.messages ?? []);
  const model = String(body.model ?? "fake-model");
  if (body.stream) return openaiStream(turn, model);
  return json(200, {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: openaiMessage(turn), finish_reason: openaiFinish(turn) }],
    usage: USAGE,
  });
}

// ---------- Anthropic Messages ----------

function anthropicContent(t: Turn): Json[] {
  const blocks: Json[] = [];
  if (t.text ?? t.refusal) blocks.push({ type: "text", text: t.text ?? t.refusal });
  for (const c of t.calls ?? []) blocks.push({ type: "tool_use", id: `toolu_${c.id}`, name: c.name, input: JSON.parse(c.args) });
  return blocks;
}
const anthropicStop = (t: Turn) => (t.refusal ? "refusal" : t.calls ? "tool_use" : "end_turn");

function anthropicStream(t: Turn, model: string): Response {
  const blocks = anthropicContent(t) as AnthropicBlock[];
  return anthropicSse({ id: "msg_fake", model, blocks, stop: anthropicStop(t), inputTokens: 11, outputTokens: 7, chunk: 5 });
}

function anthropic(scenario: string, rest: string[], req: Request, body: Json): Response {
  const key = req.headers.get("x-api-key") ?? "";
  if (!key || key.includes("bad"))
    return json(401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } });
  if (rest.join("/") === "models") return json(200, { data: [{ id: "claude-fake", type: "model" }], has_more: false });
  if (rest.join("/") !== "messages")
    return json(404, { type: "error", error: { type: "not_found_error", message: "no such path" } });
  const turn = script(scenario, body.messages ?? []);
  const model = String(body.model ?? "claude-fake");
  if (body.stream) return anthropicStream(turn, model);
  return json(200, {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model,
    content: anthropicContent(turn),
    stop_reason: anthropicStop(turn),
    stop_sequence: null,
    usage: { input_tokens: 11, output_tokens: 7 },
  });
}

// ---------- Ollama ----------

async function ollama(scenario: string, rest: string[], req: Request, body: Json): Promise<Response> {
  if (scenario === "down") return json(503, { error: "ollama is starting" });
  const path = rest.join("/");
  if (path === "api/version") return json(200, { version: "0.5.7" });
  if (path === "api/tags") {
    const names = scenario === "nomodel" ? ["mistral:latest"] : ["llama3.2:latest", "qwen2.5:7b"];
    return json(200, { models: names.map((name) => ({ name, model: name, size: 2_000_000_000, digest: "sha256:fake" })) });
  }
  if (rest[0] === "v1") return openai("chat", rest.slice(1), req, body);
  return json(404, { error: "not found" });
}

/** The fake's answer for `url`, or null when the path is not an LLM path. */
export async function llmAnswer(req: Request, url: URL, rawBody: string): Promise<Response | null> {
  const parts = url.pathname.split("/").filter(Boolean);
  const kind = parts[0];
  if (kind !== "llm" && kind !== "anthropic" && kind !== "ollama") return null;
  const [, scenario = "chat", , ...rest] = parts;
  let body: Json;
  try {
    body = rawBody ? (JSON.parse(rawBody) as Json) : {};
  } catch {
    return json(400, { error: { message: "invalid JSON body" } });
  }
  if (kind === "llm") return openai(scenario, rest, req, body);
  if (kind === "anthropic") return anthropic(scenario, rest, req, body);
  return ollama(scenario, rest, req, body);
}
