import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { httpFailure, obj, str, type ProviderResult, type VendorResponse } from "./types";

/**
 * Fields shared by the LLM providers' connection configs (openai, anthropic, ollama). Their connections hold the
 * credentials the chat and workflow generation use (src/llm/); they expose no tool actions.
 */

export const LLM_PLATFORMS = ["openai", "anthropic", "ollama"] as const;
export type LlmPlatform = (typeof LLM_PLATFORMS)[number];
export const isLlmPlatform = (p: string): p is LlmPlatform => (LLM_PLATFORMS as readonly string[]).includes(p);

/** A model endpoint's root URL (http or https; the outbound policy is checked when the connection is saved). */
export const LlmBaseUrl = z.string().url().max(2000);

export const ModelField = z
  .string()
  .min(1)
  .max(200)
  .describe("The model to call (e.g. gpt-4o-mini, claude-sonnet-4-5, llama3.2)");

export const llmCommonFields = {
  is_default: z
    .boolean()
    .optional()
    .describe("Use this connection when a request names no provider (otherwise the org's first LLM connection is used)"),
  timeout_ms: z
    .number()
    .int()
    .min(LIMITS.MIN_WEBHOOK_TIMEOUT_MS)
    .max(LIMITS.LLM_MAX_TIMEOUT_MS)
    .optional()
    .describe(`Timeout of one model call in ms (default ${LIMITS.LLM_DEFAULT_TIMEOUT_MS})`),
};

/** The vendor's error message from an OpenAI-style (`{error: {message}}`) or Anthropic-style body. */
export const llmErrorMessage = (res: VendorResponse): string =>
  str(obj(obj(res.body).error), "message") ??
  str(res.body, "error") ??
  str(res.body, "message") ??
  (typeof res.body === "string" && res.body ? res.body.slice(0, 500) : `HTTP ${res.status}`);

/** Model ids from an OpenAI-style `{data: [{id}]}` list (OpenAI, Anthropic). */
export function modelIdsResult(res: VendorResponse, model: string): ProviderResult<Record<string, unknown>> {
  if (!res.ok) return httpFailure(res, llmErrorMessage(res));
  const data = obj(res.body).data;
  const models = Array.isArray(data) ? data.map((m) => str(m, "id")).filter((m): m is string => m !== undefined) : [];
  return {
    success: true,
    status: res.status,
    data: { models: models.slice(0, 100), model, model_available: models.includes(model) },
  };
}
