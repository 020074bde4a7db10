import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isLlmPlatform, type LlmPlatform } from "../providers/llm-common";
import { openConnection } from "../services/connections";
import { type SealedConnectionRow, listConnectionRows } from "../store/connections";

/**
 * Which LLM answers: the org's LLM connections (openai, anthropic, ollama) and, when the Worker has an `AI` binding,
 * Workers AI. A request's `provider` names a connection id, a platform or a configured model; without one the
 * connection marked `is_default` is used, else the org's first LLM connection, else Workers AI.
 */

export const WORKERS_AI = "workers-ai";
export const WORKERS_AI_DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct";

export type LlmKind = LlmPlatform | typeof WORKERS_AI;

export interface ProviderSummary {
  /** The connection id, or `workers-ai`. */
  id: string;
  provider: LlmKind;
  name: string;
  model: string;
  base_url: string | null;
  status: string;
  is_default: boolean;
  source: "connection" | "binding";
}

/** A provider ready to call: its decrypted config stays in memory for this request only. */
export interface ResolvedProvider extends ProviderSummary {
  connectionId: string | null;
  apiKey: string | undefined;
  timeoutMs: number;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

async function llmConnections(env: Env, orgId: string): Promise<SealedConnectionRow[]> {
  const { results } = await listConnectionRows(env.DB, orgId, { limit: LIMITS.MAX_CONNECTIONS_PER_ORG, offset: 0 });
  return results.filter((r) => isLlmPlatform(r.platform));
}

const summaryOf = (row: SealedConnectionRow, isDefault: boolean): ProviderSummary => ({
  id: row.id,
  provider: row.platform as LlmPlatform,
  name: row.name,
  model: str(row.public_config.model) ?? "",
  base_url: str(row.public_config.base_url) ?? null,
  status: row.status,
  is_default: isDefault,
  source: "connection",
});

const workersAi = (env: Env, isDefault: boolean): ProviderSummary => ({
  id: WORKERS_AI,
  provider: WORKERS_AI,
  name: "Workers AI",
  model: env.WORKERS_AI_MODEL || WORKERS_AI_DEFAULT_MODEL,
  base_url: null,
  status: "active",
  is_default: isDefault,
  source: "binding",
});

/** Every provider the org can use, the default one marked. */
export async function listLlmProviders(env: Env, orgId: string): Promise<ProviderSummary[]> {
  const rows = await llmConnections(env, orgId);
  const defaultRow = rows.find((r) => r.public_config.is_default === true) ?? rows[0];
  const out = rows.map((r) => summaryOf(r, r === defaultRow));
  if (env.AI) out.push(workersAi(env, defaultRow === undefined));
  return out;
}

/** The provider for a request; 400 naming the choices when `requested` matches none, 409 when the org has none. */
export async function resolveProvider(env: Env, orgId: string, requested?: string | null): Promise<ResolvedProvider> {
  const rows = await llmConnections(env, orgId);
  let row: SealedConnectionRow | undefined;
  if (requested) {
    if (requested === WORKERS_AI && env.AI)
      return { ...workersAi(env, false), connectionId: null, apiKey: undefined, timeoutMs: LIMITS.LLM_DEFAULT_TIMEOUT_MS };
    if (requested === WORKERS_AI)
      throw new AppError(400, "UNKNOWN_PROVIDER", "Workers AI is not available: this Worker has no AI binding", [
        {
          path: "provider",
          location: "json",
          message: 'needs wrangler.toml [ai] binding = "AI" (not reachable from a local wrangler dev without an account)',
        },
      ]);
    row =
      rows.find((r) => r.id === requested) ??
      rows.find((r) => r.platform === requested && r.public_config.is_default === true) ??
      rows.find((r) => r.platform === requested) ??
      rows.find((r) => r.public_config.model === requested);
    if (!row) {
      const known = [...new Set([...rows.map((r) => r.platform), ...(env.AI ? [WORKERS_AI] : [])])];
      throw new AppError(400, "UNKNOWN_PROVIDER", `No LLM provider "${requested.slice(0, 100)}" in this organization`, [
        {
          path: "provider",
          location: "json",
          message: known.length
            ? `must be a connection id, a model or one of ${known.join(", ")}`
            : "no LLM provider is configured",
        },
      ]);
    }
  } else {
    row = rows.find((r) => r.public_config.is_default === true) ?? rows[0];
    if (!row) {
      if (env.AI)
        return { ...workersAi(env, true), connectionId: null, apiKey: undefined, timeoutMs: LIMITS.LLM_DEFAULT_TIMEOUT_MS };
      throw new AppError(
        409,
        "NO_LLM_PROVIDER",
        "No LLM provider is configured: create an openai, anthropic or ollama connection (POST /v1/connections)",
      );
    }
  }
  const config = await openConnection(env, row);
  const timeout = config.timeout_ms;
  return {
    ...summaryOf(row, row.public_config.is_default === true),
    model: str(config.model) ?? "",
    base_url: str(config.base_url) ?? null,
    connectionId: row.id,
    apiKey: str(config.api_key),
    timeoutMs: typeof timeout === "number" ? timeout : LIMITS.LLM_DEFAULT_TIMEOUT_MS,
  };
}
