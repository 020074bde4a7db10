/**
 * A scripted model for the AI steps' tests, served from Node through the test sink (test/support/sink.ts), in the
 * OpenAI-compatible and the Anthropic Messages wire formats, streamed (SSE) and not. Paths:
 *   /ai/openai/<script>/<tag>/chat/completions | /models
 *   /ai/anthropic/<script>/<tag>/messages | /models
 * No state: each answer follows from the script named in the URL and the conversation the request carries (its
 * system prompt, user messages and tool results), so tests running side by side cannot disturb each other and a
 * repeated request gets the same answer. Token counts are derived from the sizes of request and answer (about four
 * characters a token), so usage figures are deterministic.
 */

import { type AnthropicBlock, anthropicSse } from "../support/anthropic-sse";

type Json = Record<string, any>;

export interface Call {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export interface Turn {
  text?: string;
  calls?: Call[];
}

/** The conversation of a request, the same whatever the wire format. */
export interface Transcript {
  system: string;
  /** User texts, in order. */
  users: string[];
  /** Tool results, in order (their content as text). */
  results: string[];
  /** Assistant turns so far. */
  turns: number;
  /** Tool names the request offers. */
  tools: string[];
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((b: Json) => (typeof b.text === "string" ? b.text : typeof b.content === "string" ? b.content : "")).join("")
      : "";

function openaiTranscript(body: Json): Transcript {
  const messages: Json[] = body.messages ?? [];
  return {
    system: messages
      .filter((m) => m.role === "system")
      .map((m) => textOf(m.content))
      .join("\n"),
    users: messages.filter((m) => m.role === "user").map((m) => textOf(m.content)),
    results: messages.filter((m) => m.role === "tool").map((m) => textOf(m.content)),
    turns: messages.filter((m) => m.role === "assistant").length,
    tools: (body.tools ?? []).map((t: Json) => t.function?.name),
  };
}

function anthropicTranscript(body: Json): Transcript {
  const messages: Json[] = body.messages ?? [];
  const results: string[] = [];
  const users: string[] = [];
  for (const m of messages) {
    if (m.role !== "user") continue;
    if (typeof m.content === "string") users.push(m.content);
    else
      for (const b of m.content ?? []) {
        if (b.type === "tool_result") results.push(typeof b.content === "string" ? b.content : textOf(b.content));
        else if (b.type === "text") users.push(b.text);
      }
  }
  return {
    system: textOf(body.system),
    users,
    results,
    turns: messages.filter((m) => m.role === "assistant").length,
    tools: (body.tools ?? []).map((t: Json) => t.name),
  };
}

const EMAIL = /[\w.+-]+@[\w-]+\.[\w.]+/;

const classify = (ticket: string) => ({
  category: /invoice|charge|refund|billing/i.test(ticket)
    ? "billing"
    : /error|crash|bug|broken/i.test(ticket)
      ? "bug"
      : "question",
  priority: /urgent|twice|asap|down/i.test(ticket) ? 1 : 3,
  summary: ticket.slice(0, 60),
});

const askedToRepair = (t: Transcript) => t.users.some((u) => u.includes("did not match the required JSON Schema"));

/** The scripts: what the model answers, given the conversation so far. */
export function script(name: string, t: Transcript): Turn {
  const ticket = t.users[0] ?? "";
  switch (name) {
    case "classify":
      return { text: JSON.stringify(classify(ticket)) };
    case "classify-repair":
      // First a priority of the wrong type, then (asked to repair) a valid object.
      return askedToRepair(t)
        ? { text: "```json\n" + JSON.stringify(classify(ticket)) + "\n```" }
        : { text: JSON.stringify({ ...classify(ticket), priority: "high" }) };
    case "classify-never":
      return { text: "It is probably about billing." };
    case "echo-system":
      return { text: `system: ${t.system}` };
    case "support-agent": {
      // Look the customer up, draft a reply and post it to Slack; then report what happened.
      const email = EMAIL.exec(ticket)?.[0] ?? "unknown@example.com";
      if (t.results.length === 0)
        return {
          text: "Looking the customer up.",
          calls: [{ id: "call_lookup", name: "hubspot_get_contact", args: { contact_id: email, id_property: "email" } }],
        };
      if (t.results.length === 1) {
        const name = /"firstname":"([^"]+)"/.exec(t.results[0])?.[1] ?? "there";
        return {
          calls: [
            {
              id: "call_post",
              name: "slack_post_message",
              args: { channel: "#support", text: `Hi ${name}, we are sorry about the double charge; a refund is on its way.` },
            },
          ],
        };
      }
      return /refused/i.test(t.results[1])
        ? { text: "The reply was not posted: the request was refused." }
        : { text: "Posted the reply to #support." };
    }
    case "support-desk":
      // The walk of docs/ai.md: the classification step offers no tools and asks for JSON; the agent step has tools.
      return t.tools.length === 0 ? { text: JSON.stringify(classify(ticket)) } : script("support-agent", t);
    case "lookup-then-slow": {
      // A read tool, then a final answer (the test slows the second model call down and kills the runtime in it).
      if (t.results.length === 0)
        return {
          calls: [{ id: "call_1", name: "hubspot_get_contact", args: { contact_id: "ada@example.com", id_property: "email" } }],
        };
      return { text: `Found: ${t.results[0].slice(0, 80)}` };
    }
    case "post-then-answer":
      // One write to an HTTP API, then the answer (the test slows the API down and kills the runtime in the call).
      if (t.results.length === 0)
        return {
          calls: [{ id: "call_post", name: "http_request", args: { method: "POST", path: "/orders", body: { order: 1042 } } }],
        };
      return { text: `Order posted: ${t.results[0].slice(0, 60)}` };
    case "two-notes":
      // Two write tools in one turn, then a summary of what came back.
      if (t.results.length === 0)
        return {
          calls: [
            { id: "call_a", name: "send_notification", args: { user_id: "u-1", title: "First" } },
            { id: "call_b", name: "send_notification", args: { user_id: "u-1", title: "Second" } },
          ],
        };
      return { text: `Results: ${t.results.join(" | ")}` };
    case "forever":
      // Calls a tool every turn: only a budget stops it.
      return {
        calls: [
          { id: `call_${t.turns}`, name: "hubspot_get_contact", args: { contact_id: "ada@example.com", id_property: "email" } },
        ],
      };
    case "mcp-agent": {
      // Uses the tools of a remote MCP server: adds two numbers, then looks up the weather.
      const add = t.tools.find((n) => n.endsWith("_add"));
      const weather = t.tools.find((n) => n.endsWith("_weather"));
      if (t.results.length === 0 && add) return { calls: [{ id: "call_add", name: add, args: { a: 2, b: 40 } }] };
      if (t.results.length === 1 && weather) return { calls: [{ id: "call_weather", name: weather, args: { city: "Berlin" } }] };
      return { text: `MCP said: ${t.results.join(" / ")}` };
    }
    case "flow-agent": {
      // Starts the flow exposed as a tool it was given (flow_…), then reports the run it started.
      const flow = t.tools.find((n) => n.startsWith("flow_"));
      if (t.results.length === 0 && flow) return { calls: [{ id: "call_flow", name: flow, args: { channel: "#sales" } }] };
      return { text: `Flow: ${t.results.join(" / ").slice(0, 300)}` };
    }
    case "chat-agent":
      // "Create Chat Agent": first asked to design the agent (one unknown tool among its picks), then answering messages.
      if (t.system.includes("Design a chat agent"))
        return {
          text: JSON.stringify({
            name: "Support Buddy",
            instructions: "You answer customer questions briefly. Look customers up in HubSpot first.",
            tools: ["hubspot_get_contact", "teleport_customer"],
          }),
        };
      return { text: `Reply to: ${ticket} (as instructed: ${t.system.slice(0, 40)})` };
    default:
      return { text: `unknown script ${name}` };
  }
}

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

function usageOf(body: Json, turn: Turn): { input: number; output: number } {
  return { input: tokens(JSON.stringify(body.messages ?? []) + textOf(body.system)), output: tokens(JSON.stringify(turn)) };
}

// ---------- OpenAI-compatible ----------

function openai(name: string, rest: string[], body: Json): Response {
  if (rest.join("/") === "models") return json(200, { object: "list", data: [{ id: "scripted", object: "model" }] });
  if (rest.join("/") !== "chat/completions") return json(404, { error: { message: "no such path" } });
  const turn = script(name, openaiTranscript(body));
  const u = usageOf(body, turn);
  const usage = { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
  const finish = turn.calls ? "tool_calls" : "stop";
  const model = String(body.model ?? "scripted");
  const toolCalls = turn.calls?.map((c) => ({
    id: c.id,
    type: "function",
    function: { name: c.name, arguments: JSON.stringify(c.args) },
  }));
  if (!body.stream)
    return json(200, {
      id: "chatcmpl-scripted",
      object: "chat.completion",
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: turn.text ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          finish_reason: finish,
        },
      ],
      usage,
    });
  const base = { id: "chatcmpl-scripted", object: "chat.completion.chunk", created: 1_700_000_000, model };
  const chunk = (delta: Json, finish_reason: string | null = null, extra: Json = {}) => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason }],
    ...extra,
  });
  const chunks: Json[] = [chunk({ role: "assistant", content: "" })];
  const text = turn.text ?? "";
  for (let i = 0; i < text.length; i += 7) chunks.push(chunk({ content: text.slice(i, i + 7) }));
  toolCalls?.forEach((c, index) => {
    const args = c.function.arguments;
    const half = Math.floor(args.length / 2);
    chunks.push(
      chunk({
        tool_calls: [{ index, id: c.id, type: "function", function: { name: c.function.name, arguments: args.slice(0, half) } }],
      }),
    );
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
  });
  chunks.push(chunk({}, finish, { usage }));
  const sse = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(sse, { status: 200, headers: { "content-type": "text/event-stream" } });
}

// ---------- Anthropic Messages ----------

function anthropic(name: string, rest: string[], req: Request, body: Json): Response {
  if (!req.headers.get("x-api-key"))
    return json(401, { type: "error", error: { type: "authentication_error", message: "no x-api-key" } });
  if (rest.join("/") === "models") return json(200, { data: [{ id: "claude-scripted", type: "model" }], has_more: false });
  if (rest.join("/") !== "messages")
    return json(404, { type: "error", error: { type: "not_found_error", message: "no such path" } });
  const turn = script(name, anthropicTranscript(body));
  const u = usageOf(body, turn);
  const blocks: Json[] = [
    ...(turn.text ? [{ type: "text", text: turn.text }] : []),
    ...(turn.calls ?? []).map((c) => ({ type: "tool_use", id: `toolu_${c.id}`, name: c.name, input: c.args })),
  ];
  const stop = turn.calls ? "tool_use" : "end_turn";
  const model = String(body.model ?? "claude-scripted");
  if (!body.stream)
    return json(200, {
      id: "msg_scripted",
      type: "message",
      role: "assistant",
      model,
      content: blocks,
      stop_reason: stop,
      stop_sequence: null,
      usage: { input_tokens: u.input, output_tokens: u.output },
    });
  return anthropicSse({
    id: "msg_scripted",
    model,
    blocks: blocks as AnthropicBlock[],
    stop,
    inputTokens: u.input,
    outputTokens: u.output,
    chunk: 7,
  });
}

/** The scripted model's answer for /ai/<wire>/<script>/<tag>/…, or null for another path. */
export function scriptedModelAnswer(req: Request, parts: string[], rawBody: string): Response | null {
  const [, wire, name = "classify", , ...rest] = parts;
  if (wire !== "openai" && wire !== "anthropic") return null;
  let body: Json;
  try {
    body = rawBody ? (JSON.parse(rawBody) as Json) : {};
  } catch {
    return json(400, { error: { message: "invalid JSON body" } });
  }
  return wire === "openai" ? openai(name, rest, body) : anthropic(name, rest, req, body);
}
