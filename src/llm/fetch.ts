import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { safeFetch } from "../lib/outbound";

/**
 * The fetch the AI SDK providers are given: every call to a model goes through the outbound policy (lib/outbound.ts:
 * SSRF rules, ALLOWED_OUTBOUND_HOSTS for local servers, redirects re-checked) and is bounded by the connection's
 * timeout, which covers reading a streamed answer too.
 */
export function outboundFetch(env: Env, timeoutMs: number): typeof fetch {
  const policy = { allowedHosts: env.ALLOWED_OUTBOUND_HOSTS, timeoutMs, maxTimeoutMs: LIMITS.LLM_MAX_TIMEOUT_MS };
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    if (input instanceof Request) {
      const body = input.body ? await input.arrayBuffer() : undefined;
      return safeFetch(input.url, { method: input.method, headers: input.headers, body, ...init }, policy);
    }
    return safeFetch(input.toString(), init ?? {}, policy);
  };
}
