import { z } from "zod";
import { anthropicProvider } from "./anthropic";
import { discordProvider } from "./discord";
import { httpProvider } from "./generic-http";
import { googleCalendarProvider } from "./google-calendar";
import { hubspotProvider } from "./hubspot";
import { mcpProvider } from "./mcp";
import { ollamaProvider } from "./ollama";
import { openaiProvider } from "./openai";
import { resendProvider } from "./resend";
import { slackProvider } from "./slack";
import { teamsProvider } from "./teams";
import { twilioProvider } from "./twilio";
import type { AnyProvider, ProviderAction } from "./types";

/** Every provider; a new one is a new module added here. */
const PROVIDERS: AnyProvider[] = [
  slackProvider,
  hubspotProvider,
  googleCalendarProvider,
  resendProvider,
  twilioProvider,
  discordProvider,
  teamsProvider,
  httpProvider,
  // Remote MCP servers: their tools are listed at run time (services/mcp-client.ts).
  mcpProvider,
  // LLM providers (src/llm/): connections only, no tool actions.
  openaiProvider,
  anthropicProvider,
  ollamaProvider,
];

const byPlatform = new Map(PROVIDERS.map((p) => [p.platform, p]));

export const listProviders = (): readonly AnyProvider[] => PROVIDERS;
export const getProvider = (platform: string): AnyProvider | undefined => byPlatform.get(platform);
export const platformIds = (): string[] => PROVIDERS.map((p) => p.platform);

export function getProviderAction(provider: AnyProvider, action: string): ProviderAction<unknown> | undefined {
  return Object.prototype.hasOwnProperty.call(provider.actions, action) ? provider.actions[action] : undefined;
}

/** JSON Schema (draft 2020-12) of a zod schema, as a client sends it (defaults optional). */
export const jsonSchemaOf = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;

/** The registry as `GET /v1/connections/platforms` shows it. */
export function platformDescriptors() {
  return PROVIDERS.map((p) => ({
    platform: p.platform,
    title: p.title,
    description: p.description,
    category: p.category,
    docs_url: p.docs_url,
    secret_fields: [...p.secretFields],
    config_schema: jsonSchemaOf(p.config),
    actions: Object.entries(p.actions).map(([name, a]) => ({
      name,
      title: a.title,
      description: a.description,
      effect: a.effect,
      params_schema: jsonSchemaOf(a.params),
      result_schema: z.toJSONSchema(a.result, { io: "output", unrepresentable: "any" }) as Record<string, unknown>,
    })),
  }));
}
