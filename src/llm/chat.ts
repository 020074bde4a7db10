import type { LanguageModel, ModelMessage, ToolSet } from "ai";
import type { Env } from "../env";
import type { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { Caller } from "../services/tools";
import type { MessageRow, NewMessage, ToolCalled } from "../store/conversations";
import { llmFailure } from "./errors";
import { toModelMessages } from "./history";
import { CHAT_INSTRUCTIONS } from "./prompts";
import type { ResolvedProvider } from "./providers";
import { modelStep } from "./step";
import { asToolData, checkModelToolCall, type ModelToolCall, type ToolRun } from "./tools";

/**
 * One turn of a conversation: the model answers, may call catalog tools, sees their results and answers again, for
 * at most LLM_MAX_TOOL_STEPS rounds. Every message (assistant, tool) is stored as soon as it exists, so a turn cut
 * short keeps what it did; tool calls run one after another in the order the model gave them.
 *
 * The model proposes, a person decides: a call of a `write` tool (one that sends, creates, updates or deletes) that
 * the conversation does not auto-approve is checked but not run. The assistant message then carries it in
 * `pending_tool_calls` (status `awaiting_approval`) and the turn stops; the conversation's approve/reject decide it
 * (services/conversations.ts) and the turn goes on with runTurn again. Read tools run at once.
 */

export type Emit = (event: string, data: unknown) => Promise<void>;

export interface TurnInput {
  env: Env;
  who: Caller;
  provider: ResolvedProvider;
  model: LanguageModel;
  tools: ToolSet;
  /** Whether a call of this tool must wait for a person (a write tool the conversation does not auto-approve). */
  needsApproval(toolName: string): boolean;
  /** The conversation so far, ending with the user's new message (or with the results of decided tool calls). */
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
  /** The last assistant message (its status says how the turn ended: `awaiting_approval` when calls wait). */
  final: MessageRow;
  /** Set when the model call failed: the turn's error, also stored on `final`. */
  failure: AppError | null;
}

export const blankMessage = {
  tokens_used: null,
  tools_called: null,
  tool_call_id: null,
  tool_name: null,
  tool_arguments: null,
  tool_success: null,
  error_message: null,
  pending_tool_calls: null,
} as const;

/** A tool message answering `call` with `run`'s outcome. */
export const toolMessage = (call: { id: string; name: string; arguments: unknown }, run: ToolRun) => ({
  ...blankMessage,
  role: "tool" as const,
  content: run.content,
  status: run.success ? ("completed" as const) : ("error" as const),
  tool_call_id: call.id,
  tool_name: call.name,
  tool_arguments: call.arguments,
  tool_success: run.success,
  error_message: run.error,
});

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
      const final = await keep({
        ...blankMessage,
        role: "assistant",
        content: "",
        status: "error",
        error_message: failure.message,
      });
      return { messages: stored, final, failure };
    }
    const calls = out.toolCalls;
    const atLimit = calls.length > 0 && round >= LIMITS.LLM_MAX_TOOL_STEPS;
    const called: ToolCalled[] = calls.map((c) => ({ id: c.toolCallId, name: c.toolName, arguments: c.input }));

    // Check every call first (a bad one is answered at once, never asked about); hold back valid writes.
    const checked: Checked[] = [];
    if (!atLimit) for (const [i, c] of calls.entries()) checked.push(await checkCall(t, c, round, i));
    const pending = called.filter((_, i) => checked[i]?.kind === "pending");
    const assistant = await keep({
      ...blankMessage,
      role: "assistant",
      content: out.text,
      status:
        out.finishReason === "content-filter"
          ? "refused"
          : atLimit
            ? "incomplete"
            : pending.length > 0
              ? "awaiting_approval"
              : "completed",
      tokens_used: out.tokens,
      tools_called: called.length > 0 ? called : null,
      pending_tool_calls: pending.length > 0 ? pending : null,
      error_message: atLimit
        ? `Stopped after ${LIMITS.LLM_MAX_TOOL_STEPS} rounds of tool calls (LLM_MAX_TOOL_STEPS); the last calls were not run`
        : null,
    });
    if (calls.length === 0 || atLimit) return { messages: stored, final: assistant, failure: null };

    const results: ToolRun[] = [];
    for (const [i, call] of called.entries()) {
      const c = checked[i];
      if (c.kind === "pending") continue;
      await t.emit?.("tool-call", call);
      const run = c.kind === "ready" ? await c.run() : c.result;
      results.push(run);
      await keep(toolMessage(call, run));
    }
    // Writes wait for a person: the turn ends here and goes on once every pending call is decided.
    if (pending.length > 0) return { messages: stored, final: assistant, failure: null };
    messages.push(assistantMessage(out.text, calls), toolResults(calls, results));
  }
}

type Checked = { kind: "ready"; run(): Promise<ToolRun> } | { kind: "answered"; result: ToolRun } | { kind: "pending" };

async function checkCall(t: TurnInput, call: ModelToolCall, round: number, i: number): Promise<Checked> {
  if (i >= LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP) return { kind: "answered", result: tooMany() };
  const checked = await checkModelToolCall(t.env, t.who, call, `${t.requestId}:${round}:${i}`);
  if (!checked.ok) return { kind: "answered", result: checked.result };
  return t.needsApproval(call.toolName) ? { kind: "pending" } : { kind: "ready", run: checked.run };
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

function toolResults(calls: ModelToolCall[], results: ToolRun[]): ModelMessage {
  return {
    role: "tool",
    content: calls.map((c, i) => ({
      type: "tool-result" as const,
      toolCallId: c.toolCallId,
      toolName: c.toolName,
      output: results[i].success
        ? { type: "text" as const, value: asToolData(results[i].content) }
        : { type: "error-text" as const, value: asToolData(results[i].content) },
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
