import { z } from "zod";
import { LlmBaseUrl, ModelField, llmCommonFields, modelIdsResult } from "./llm-common";
import { SecretString, defineProvider } from "./types";

/** Anthropic's Messages API. The auth check lists the models (`GET /v1/models`). */

export const ANTHROPIC_VERSION = "2023-06-01";

const AnthropicConfig = z.strictObject({
  api_key: SecretString("Anthropic API key (sent as x-api-key)"),
  base_url: LlmBaseUrl.default("https://api.anthropic.com/v1").describe(
    "Root of the Messages API, ending before /messages (a gateway or proxy; outbound host rules apply)",
  ),
  model: ModelField,
  ...llmCommonFields,
});

export const anthropicProvider = defineProvider({
  platform: "anthropic",
  title: "Anthropic",
  description: "Chat and workflow generation with Claude models through the Anthropic Messages API.",
  category: "llm",
  docs_url: "https://docs.anthropic.com/en/api/messages",
  config: AnthropicConfig,
  secretFields: ["api_key"],
  apiRoot: (c) => c.base_url,
  actions: {},
  async authCheck(ctx) {
    const res = await ctx.request({
      method: "GET",
      path: "/models",
      headers: { "x-api-key": ctx.config.api_key, "anthropic-version": ANTHROPIC_VERSION },
    });
    return modelIdsResult(res, ctx.config.model);
  },
});
