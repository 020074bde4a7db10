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

/**
 * Dotted paths of every config field that holds a URL: the `format: uri` strings of the config schema (nested ones
 * and union members included) and the provider's declared `urlFields`. Changing one moves where the credentials go.
 */
export function connectionUrlFields(provider: AnyProvider): string[] {
  const cached = urlFieldCache.get(provider);
  if (cached) return cached;
  const out = new Set<string>(provider.urlFields ?? []);
  const walk = (s: unknown, at: string): void => {
    if (!s || typeof s !== "object") return;
    const node = s as Record<string, unknown>;
    if (node.type === "string" && node.format === "uri" && at) out.add(at);
    for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, unknown>)) walk(v, at ? `${at}.${k}` : k);
    for (const key of ["anyOf", "oneOf", "allOf"]) for (const v of (node[key] ?? []) as unknown[]) walk(v, at);
  };
  walk(jsonSchemaOf(provider.config), "");
  const fields = [...out];
  urlFieldCache.set(provider, fields);
  return fields;
}
const urlFieldCache = new WeakMap<AnyProvider, string[]>();

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
    url_fields: connectionUrlFields(p),
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
