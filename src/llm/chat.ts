import type { LanguageModel, ModelMessage, ToolSet } from "ai";
import type { Env } from "../env";
import type { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { Caller } from "../services/tools";
import type { MessageRow, NewMessage } from "../store/conversations";
import { llmFailure } from "./errors";
import { toModelMessages } from "./history";
import { CHAT_INSTRUCTIONS } from "./prompts";
import type { ResolvedProvider } from "./providers";
import { modelStep } from "./step";
import { runModelToolCall, type ModelToolCall, type ToolRun } from "./tools";

/**
 * One turn of a conversation: the model answers, may call catalog tools, sees their results and answers again, for
 * at most LLM_MAX_TOOL_STEPS rounds. Every message (assistant, tool) is stored as soon as it exists, so a turn cut
 * short keeps what it did; tool calls run one after another in the order the model gave them.
 */

export type Emit = (event: string, data: unknown) => Promise<void>;

export interface TurnInput {
  env: Env;
  who: Caller;
  provider: ResolvedProvider;
  model: LanguageModel;
  tools: ToolSet;
  /** The conversation so far, ending with the user's new message. */
  history: MessageRow[];
  requestId: string;
  /** Stores one message and returns it as stored. */
  record(m: Omit<NewMessage, "id" | "org_id" | "conversation_id" | "created_at" | "provider" | "model">): Promise<MessageRow>;
  /** Streaming: receives text deltas, tool calls and results, and each stored message. */
  emit?: Emit;
}

export interface TurnResult {
  /** The messages this turn stored, in order. */
  messages: MessageRow[];
  /** The last assistant message (its status says how the turn ended). */
  final: MessageRow;
  /** Set when the model call failed: the turn's error, also stored on `final`. */
  failure: AppError | null;
}

const blank = {
  tokens_used: null,
  tools_called: null,
  tool_call_id: null,
  tool_name: null,
  tool_arguments: null,
  tool_success: null,
  error_message: null,
} as const;

export async function runTurn(t: TurnInput): Promise<TurnResult> {
  const messages: ModelMessage[] = toModelMessages(t.history);
  const stored: MessageRow[] = [];
  const keep = async (m: Parameters<TurnInput["record"]>[0]): Promise<MessageRow> => {
    const row = await t.record(m);
    stored.push(row);
    await t.emit?.("message", row);
    return row;
  };
  const onText = t.emit ? (delta: string) => t.emit!("text-delta", { delta }) : undefined;

  for (let round = 0; ; round++) {
    let out;
    try {
      out = await modelStep({ model: t.model, instructions: CHAT_INSTRUCTIONS, messages, tools: t.tools, onText });
    } catch (err) {
      const failure = llmFailure(err, t.provider.provider);
      const final = await keep({ ...blank, role: "assistant", content: "", status: "error", error_message: failure.message });
      return { messages: stored, final, failure };
    }
    const calls = out.toolCalls;
    const atLimit = calls.length > 0 && round >= LIMITS.LLM_MAX_TOOL_STEPS;
    const assistant = await keep({
      ...blank,
      role: "assistant",
      content: out.text,
      status: out.finishReason === "content-filter" ? "refused" : atLimit ? "incomplete" : "completed",
      tokens_used: out.tokens,
      tools_called: calls.length > 0 ? calls.map((c) => ({ id: c.toolCallId, name: c.toolName, arguments: c.input })) : null,
      error_message: atLimit
        ? `Stopped after ${LIMITS.LLM_MAX_TOOL_STEPS} rounds of tool calls (LLM_MAX_TOOL_STEPS); the last calls were not run`
        : null,
    });
    if (calls.length === 0 || atLimit) return { messages: stored, final: assistant, failure: null };

    const results: ToolRun[] = [];
    for (const [i, call] of calls.entries()) {
      await t.emit?.("tool-call", { id: call.toolCallId, name: call.toolName, arguments: call.input });
      const run =
        i < LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP
          ? await runModelToolCall(t.env, t.who, call, `${t.requestId}:${round}:${i}`)
          : tooMany();
      results.push(run);
      await keep({
        ...blank,
        role: "tool",
        content: run.content,
        status: run.success ? "completed" : "error",
        tool_call_id: call.toolCallId,
        tool_name: call.toolName,
        tool_arguments: call.input,
        tool_success: run.success,
        error_message: run.error,
      });
    }
    messages.push(assistantMessage(out.text, calls), toolMessage(calls, results));
  }
}

const tooMany = (): ToolRun => {
  const error = `Not run: at most ${LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP} tool calls per round (LLM_MAX_TOOL_CALLS_PER_STEP)`;
  return { success: false, data: null, error, content: JSON.stringify({ error }) };
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function assistantMessage(text: string, calls: ModelToolCall[]): ModelMessage {
  return {
    role: "assistant",
    content: [
      ...(text ? [{ type: "text" as const, text }] : []),
      ...calls.map((c) => ({
        type: "tool-call" as const,
        toolCallId: c.toolCallId,
        toolName: c.toolName,
        input: isObject(c.input) ? c.input : {},
      })),
    ],
  };
}

function toolMessage(calls: ModelToolCall[], results: ToolRun[]): ModelMessage {
  return {
    role: "tool",
    content: calls.map((c, i) => ({
      type: "tool-result" as const,
      toolCallId: c.toolCallId,
      toolName: c.toolName,
      output: results[i].success
        ? { type: "text" as const, value: results[i].content }
        : { type: "error-text" as const, value: results[i].content },
    })),
  };
}

/** The stored row's id and time are set here so every message of a turn is ordered by when it happened. */
export const newMessageBase = (provider: ResolvedProvider) => ({
  id: newId(),
  created_at: isoNow(),
  provider: provider.provider,
  model: provider.model,
});
