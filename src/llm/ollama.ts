import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { checkOutboundUrl, parseAllowedHosts } from "../lib/ssrf";
import { TransportFailure, createRequester } from "../providers/http";
import { hasOllamaModel, ollamaModelNames } from "../providers/ollama";
import type { VendorResponse } from "../providers/types";
import { listLlmProviders, resolveProvider, type ProviderSummary, type ResolvedProvider } from "./providers";
import { languageModel } from "./model";
import { modelStep } from "./step";
import { llmFailure } from "./errors";

/**
 * Ollama status and diagnostics (seed 002 "Check Ollama Status", "Ollama Diagnostic"): they ask the configured
 * endpoint, never a default one. Status: reachable? which models (`/api/tags`)? is the connection's model among them?
 * The diagnostic adds the outbound policy, `/api/version` and, on request, a one-line generation.
 */

async function ollamaConnection(env: Env, orgId: string, connectionId: string | undefined): Promise<ResolvedProvider | null> {
  const all = (await listLlmProviders(env, orgId)).filter((p) => p.provider === "ollama");
  const chosen: ProviderSummary | undefined = connectionId
    ? all.find((p) => p.id === connectionId)
    : (all.find((p) => p.is_default) ?? all[0]);
  if (connectionId && !chosen) throw notFound("Ollama connection");
  return chosen ? resolveProvider(env, orgId, chosen.id) : null;
}

type Probe = { ok: true; res: VendorResponse; ms: number } | { ok: false; error: string; status: number | null; ms: number };

async function probe(env: Env, p: ResolvedProvider, path: string): Promise<Probe> {
  const requester = createRequester({
    apiRoot: p.base_url ?? "",
    allowedHosts: env.ALLOWED_OUTBOUND_HOSTS,
    secrets: p.apiKey ? [p.apiKey] : [],
    timeoutMs: LIMITS.PROVIDER_TIMEOUT_MS,
  });
  const started = Date.now();
  try {
    const headers: Record<string, string> = p.apiKey ? { authorization: `Bearer ${p.apiKey}` } : {};
    const res = await requester.request({ method: "GET", path, headers });
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}`, status: res.status, ms: Date.now() - started };
    return { ok: true, res, ms: Date.now() - started };
  } catch (err) {
    if (!(err instanceof TransportFailure)) throw err;
    return { ok: false, error: err.message, status: null, ms: Date.now() - started };
  }
}

const unconfigured = {
  configured: false,
  connection_id: null,
  base_url: null,
  model: null,
  reachable: false,
  models: [],
  model_available: false,
  latency_ms: null,
  error: "No ollama connection: create one with POST /v1/connections (platform ollama, config base_url and model)",
};

export async function ollamaStatus(env: Env, orgId: string, connectionId?: string) {
  const p = await ollamaConnection(env, orgId, connectionId);
  if (!p) return unconfigured;
  const tags = await probe(env, p, "/api/tags");
  const models = tags.ok ? ollamaModelNames(tags.res.body) : [];
  return {
    configured: true,
    connection_id: p.id,
    base_url: p.base_url,
    model: p.model,
    reachable: tags.ok,
    models: models.slice(0, 100),
    model_available: hasOllamaModel(models, p.model),
    latency_ms: tags.ms,
    error: tags.ok ? null : tags.error,
  };
}

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export async function ollamaDiagnostic(env: Env, orgId: string, opts: { connectionId?: string; generate?: boolean }) {
  const p = await ollamaConnection(env, orgId, opts.connectionId);
  if (!p) return { ...unconfigured, healthy: false, checks: [{ name: "connection", ok: false, detail: unconfigured.error }] };
  const checks: CheckResult[] = [{ name: "connection", ok: true, detail: `Connection ${p.name} (${p.id}), model ${p.model}` }];
  const policy = checkOutboundUrl(p.base_url ?? "", parseAllowedHosts(env.ALLOWED_OUTBOUND_HOSTS));
  checks.push({
    name: "outbound_policy",
    ok: policy.ok,
    detail: policy.ok ? "The base URL is allowed" : `${policy.reason} (a local server's host must be in ALLOWED_OUTBOUND_HOSTS)`,
  });
  const version = await probe(env, p, "/api/version");
  checks.push({
    name: "version",
    ok: version.ok,
    detail: version.ok
      ? `Ollama ${String((version.res.body as { version?: unknown } | null)?.version ?? "unknown")}`
      : version.error,
  });
  const tags = await probe(env, p, "/api/tags");
  const models = tags.ok ? ollamaModelNames(tags.res.body) : [];
  checks.push({ name: "models", ok: tags.ok, detail: tags.ok ? `${models.length} model(s) installed` : tags.error });
  const available = hasOllamaModel(models, p.model);
  checks.push({
    name: "model_available",
    ok: available,
    detail: available ? `${p.model} is installed` : `${p.model} is not installed (ollama pull ${p.model})`,
  });
  if (opts.generate && available) {
    try {
      const out = await modelStep({
        model: languageModel(env, p),
        instructions: "Answer with the single word OK.",
        messages: [{ role: "user", content: "ping" }],
      });
      checks.push({ name: "generation", ok: out.text.trim().length > 0, detail: `Answered: ${out.text.slice(0, 100)}` });
    } catch (err) {
      checks.push({ name: "generation", ok: false, detail: llmFailure(err, "ollama").message });
    }
  }
  return {
    configured: true,
    connection_id: p.id,
    base_url: p.base_url,
    model: p.model,
    reachable: tags.ok,
    models: models.slice(0, 100),
    model_available: available,
    latency_ms: tags.ms,
    error: tags.ok ? null : tags.error,
    healthy: checks.every((c) => c.ok),
    checks,
  };
}
