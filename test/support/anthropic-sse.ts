/**
 * The Anthropic Messages API's streamed answer (server-sent events) for given content blocks, as the tests' fake
 * and scripted model servers send it (test/llm/fake-llm.ts, test/ai/scripted-model.ts): message_start, each block
 * started, its text or tool input in deltas of `chunk` characters, stopped, then message_delta and message_stop.
 */
export type AnthropicBlock = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown };

export function anthropicSse(m: {
  id: string;
  model: string;
  blocks: AnthropicBlock[];
  stop: string;
  inputTokens: number;
  outputTokens: number;
  chunk: number;
}): Response {
  const events: [string, Record<string, unknown>][] = [
    [
      "message_start",
      {
        type: "message_start",
        message: {
          id: m.id,
          type: "message",
          role: "assistant",
          model: m.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: m.inputTokens, output_tokens: 1 },
        },
      },
    ],
  ];
  m.blocks.forEach((b, index) => {
    if (b.type === "text") {
      events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }]);
      for (let i = 0; i < b.text.length; i += m.chunk)
        events.push([
          "content_block_delta",
          { type: "content_block_delta", index, delta: { type: "text_delta", text: b.text.slice(i, i + m.chunk) } },
        ]);
    } else {
      events.push([
        "content_block_start",
        { type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } },
      ]);
      events.push([
        "content_block_delta",
        { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } },
      ]);
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  events.push([
    "message_delta",
    { type: "message_delta", delta: { stop_reason: m.stop, stop_sequence: null }, usage: { output_tokens: m.outputTokens } },
  ]);
  events.push(["message_stop", { type: "message_stop" }]);
  const body = events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join("");
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}
