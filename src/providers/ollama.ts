import { z } from "zod";
import { LlmBaseUrl, ModelField, llmCommonFields, llmErrorMessage } from "./llm-common";
import { SecretString, defineProvider, httpFailure, obj, str } from "./types";

/**
 * A local (or self-hosted) Ollama server. Chat goes through its OpenAI-compatible API under `<base_url>/v1`; the
 * auth check and the status operations read `/api/tags`. A server on localhost or a private address must be named in
 * ALLOWED_OUTBOUND_HOSTS (the outbound policy refuses those by default).
 */

const OllamaConfig = z.strictObject({
  base_url: LlmBaseUrl.describe("Root of the Ollama server, e.g. http://localhost:11434 (outbound host rules apply)"),
  model: ModelField,
  api_key: SecretString("Bearer token, for an Ollama behind an authenticating proxy").optional(),
  ...llmCommonFields,
});

/** Model names of an Ollama `/api/tags` answer. */
export const ollamaModelNames = (body: unknown): string[] => {
  const models = obj(body).models;
  return Array.isArray(models) ? models.map((m) => str(m, "name") ?? str(m, "model")).filter((m): m is string => !!m) : [];
};

/** Ollama names a model `llama3.2` or `llama3.2:latest`: both spellings match. */
export const hasOllamaModel = (names: string[], model: string): boolean =>
  names.some((n) => n === model || n === `${model}:latest` || `${n}:latest` === model);

export const ollamaProvider = defineProvider({
  platform: "ollama",
  title: "Ollama",
  description: "Chat and workflow generation with a local or self-hosted Ollama server.",
  category: "llm",
  docs_url: "https://github.com/ollama/ollama/blob/main/docs/api.md",
  config: OllamaConfig,
  secretFields: ["api_key"],
  apiRoot: (c) => c.base_url,
  actions: {},
  async authCheck(ctx) {
    const headers: Record<string, string> = ctx.config.api_key ? { authorization: `Bearer ${ctx.config.api_key}` } : {};
    const res = await ctx.request({ method: "GET", path: "/api/tags", headers });
    if (!res.ok) return httpFailure(res, llmErrorMessage(res));
    const models = ollamaModelNames(res.body);
    return {
      success: true,
      status: res.status,
      data: { models: models.slice(0, 100), model: ctx.config.model, model_available: hasOllamaModel(models, ctx.config.model) },
    };
  },
});
