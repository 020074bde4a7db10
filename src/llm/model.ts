import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { outboundFetch } from "./fetch";
import { WORKERS_AI, type ResolvedProvider } from "./providers";

/** The AI SDK model of a resolved provider; every HTTP call goes through the outbound policy (fetch.ts). */
export function languageModel(env: Env, p: ResolvedProvider): LanguageModel {
  const fetch = outboundFetch(env, p.timeoutMs);
  switch (p.provider) {
    case "openai":
      return createOpenAICompatible({
        name: "openai",
        baseURL: trimSlash(p.base_url ?? "https://api.openai.com/v1"),
        apiKey: p.apiKey,
        fetch,
        includeUsage: true,
      }).chatModel(p.model);
    case "ollama":
      // Ollama speaks the OpenAI dialect under /v1 of its root.
      return createOpenAICompatible({
        name: "ollama",
        baseURL: `${trimSlash(p.base_url ?? "")}/v1`,
        apiKey: p.apiKey,
        fetch,
        includeUsage: true,
      }).chatModel(p.model);
    case "anthropic":
      return createAnthropic({ baseURL: trimSlash(p.base_url ?? "https://api.anthropic.com/v1"), apiKey: p.apiKey, fetch })(
        p.model,
      );
    case WORKERS_AI:
      if (!env.AI) throw new AppError(409, "NO_LLM_PROVIDER", "The Workers AI binding (AI) is not configured");
      return createWorkersAI({ binding: env.AI })(p.model);
  }
}

const trimSlash = (url: string): string => url.replace(/\/+$/, "");
