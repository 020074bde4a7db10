import { generateText, streamText, type LanguageModel, type ModelMessage, type ToolSet } from "ai";
import type { ModelToolCall } from "./tools";

/**
 * One call to the model: the SDK's own loop is not used (one step, tools without `execute`) so the chat loop
 * decides what runs, stores every message and bounds the rounds itself. Streaming reports text as it arrives.
 */

export interface StepOutcome {
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  tokens: number | null;
}

export interface StepInput {
  model: LanguageModel;
  instructions: string;
  messages: ModelMessage[];
  tools?: ToolSet;
  /** Receives text as it streams; without it the call is not streamed. */
  onText?: (delta: string) => Promise<void>;
}

// No automatic retry: the SDK's backoff would sleep inside the request, and a failed answer is stored and returned.
const MAX_RETRIES = 0;

export async function modelStep(input: StepInput): Promise<StepOutcome> {
  const common = {
    model: input.model,
    instructions: input.instructions,
    messages: input.messages,
    ...(input.tools && Object.keys(input.tools).length > 0 ? { tools: input.tools } : {}),
    maxRetries: MAX_RETRIES,
  };
  if (!input.onText) {
    const r = await generateText(common);
    return {
      text: r.text,
      toolCalls: r.toolCalls as ModelToolCall[],
      finishReason: r.finishReason,
      tokens: r.usage.totalTokens ?? null,
    };
  }
  // Errors arrive as `error` parts and are thrown below; the SDK would also log them.
  const r = streamText({ ...common, onError: () => {} });
  let text = "";
  const toolCalls: ModelToolCall[] = [];
  let finishReason = "unknown";
  let tokens: number | null = null;
  for await (const part of r.fullStream) {
    if (part.type === "text-delta") {
      text += part.text;
      await input.onText(part.text);
    } else if (part.type === "tool-call") {
      toolCalls.push(part as ModelToolCall);
    } else if (part.type === "finish") {
      finishReason = part.finishReason;
      tokens = part.totalUsage.totalTokens ?? null;
    } else if (part.type === "error") {
      throw part.error;
    }
  }
  return { text, toolCalls, finishReason, tokens };
}
