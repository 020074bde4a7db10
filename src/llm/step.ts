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
  /** Tokens as the provider counted them (0 where it said nothing). */
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
}

/** Generation settings of one call (AI steps set them; chat leaves the provider's defaults). */
export interface StepSettings {
  maxOutputTokens?: number;
  temperature?: number;
  /** Extra request headers (an AI step's idempotency key). */
  headers?: Record<string, string>;
}

export interface StepInput {
  model: LanguageModel;
  instructions: string;
  messages: ModelMessage[];
  tools?: ToolSet;
  /** Receives text as it streams; without it the call is not streamed. */
  onText?: (delta: string) => Promise<void>;
  settings?: StepSettings;
}

type SdkUsage = { inputTokens?: number; outputTokens?: number; totalTokens?: number };
const usageOf = (u: SdkUsage | undefined): StepOutcome["usage"] => {
  const input = u?.inputTokens ?? 0;
  const output = u?.outputTokens ?? 0;
  return { input_tokens: input, output_tokens: output, total_tokens: u?.totalTokens ?? input + output };
};

// No automatic retry: the SDK's backoff would sleep inside the request, and a failed answer is stored and returned.
const MAX_RETRIES = 0;

export async function modelStep(input: StepInput): Promise<StepOutcome> {
  const common = {
    model: input.model,
    instructions: input.instructions,
    messages: input.messages,
    ...(input.tools && Object.keys(input.tools).length > 0 ? { tools: input.tools } : {}),
    maxRetries: MAX_RETRIES,
    ...(input.settings?.maxOutputTokens !== undefined ? { maxOutputTokens: input.settings.maxOutputTokens } : {}),
    ...(input.settings?.temperature !== undefined ? { temperature: input.settings.temperature } : {}),
    ...(input.settings?.headers ? { headers: input.settings.headers } : {}),
  };
  if (!input.onText) {
    const r = await generateText(common);
    return {
      text: r.text,
      toolCalls: r.toolCalls as ModelToolCall[],
      finishReason: r.finishReason,
      tokens: r.usage.totalTokens ?? null,
      usage: usageOf(r.usage),
    };
  }
  // Errors arrive as `error` parts and are thrown below; the SDK would also log them.
  const r = streamText({ ...common, onError: () => {} });
  let text = "";
  const toolCalls: ModelToolCall[] = [];
  let finishReason = "unknown";
  let tokens: number | null = null;
  let usage = usageOf(undefined);
  for await (const part of r.fullStream) {
    if (part.type === "text-delta") {
      text += part.text;
      await input.onText(part.text);
    } else if (part.type === "tool-call") {
      toolCalls.push(part as ModelToolCall);
    } else if (part.type === "finish") {
      finishReason = part.finishReason;
      tokens = part.totalUsage.totalTokens ?? null;
      usage = usageOf(part.totalUsage);
    } else if (part.type === "error") {
      throw part.error;
    }
  }
  return { text, toolCalls, finishReason, tokens, usage };
}
