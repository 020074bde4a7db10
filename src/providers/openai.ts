import { z } from "zod";
import { LlmBaseUrl, ModelField, llmCommonFields, modelIdsResult } from "./llm-common";
import { SecretString, defineProvider } from "./types";

/**
 * Any OpenAI-compatible chat completions API: OpenAI itself, or a local or hosted server speaking its dialect
 * (vLLM, LM Studio, llama.cpp, LiteLLM, Ollama's /v1). The auth check lists the models (`GET /models`).
 */

const OpenAIConfig = z.strictObject({
  api_key: SecretString("API key, sent as a bearer token (optional for local servers)").optional(),
  base_url: LlmBaseUrl.default("https://api.openai.com/v1").describe(
    "Root of the OpenAI-compatible API, ending before /chat/completions (outbound host rules apply)",
  ),
  model: ModelField,
  ...llmCommonFields,
});

export const openaiProvider = defineProvider({
  platform: "openai",
  title: "OpenAI-compatible LLM",
  description: "Chat and workflow generation through OpenAI or any OpenAI-compatible endpoint (local servers included).",
  category: "llm",
  docs_url: "https://platform.openai.com/docs/api-reference/chat",
  config: OpenAIConfig,
  secretFields: ["api_key"],
  apiRoot: (c) => c.base_url,
  actions: {},
  async authCheck(ctx) {
    const headers: Record<string, string> = ctx.config.api_key ? { authorization: `Bearer ${ctx.config.api_key}` } : {};
    return modelIdsResult(await ctx.request({ method: "GET", path: "/models", headers }), ctx.config.model);
  },
});
