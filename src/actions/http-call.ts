import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { OutboundRefused, OutboundTimeout, captureResponse, redactHeaders, safeFetch } from "../lib/outbound";
import { outboundPolicy } from "../lib/ssrf";
import { httpEffect } from "../engine/reruns/side-effects";
import type { ActionContext, ActionResult } from "./types";

export const HttpCallConfig = z.object({
  url: z.string().url(),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  timeout_ms: z.number().int().min(LIMITS.MIN_WEBHOOK_TIMEOUT_MS).max(LIMITS.MAX_WEBHOOK_TIMEOUT_MS).optional(),
});
export type HttpCallConfig = z.infer<typeof HttpCallConfig>;

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * One outbound HTTP request with the idempotency header, classified for the retry policy: 2xx is a
 * success; 408, 429 and 5xx are retried (429 after its Retry-After); other 4xx fail at once.
 */
export async function performHttpCall(
  ctx: ActionContext,
  cfg: HttpCallConfig,
  errorCode: "TRIGGER_WEBHOOK_ERROR" | "CUSTOM_ACTION_ERROR",
  extraHeaders: Record<string, string> = {},
): Promise<ActionResult> {
  const headers: Record<string, string> = {
    "user-agent": "automation-engine/1.0",
    ...cfg.headers,
    ...extraHeaders,
    "idempotency-key": ctx.idempotencyKey,
  };
  let body: string | undefined;
  if (cfg.body !== undefined && cfg.method !== "GET") {
    body = typeof cfg.body === "string" ? cfg.body : JSON.stringify(cfg.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const request = { method: cfg.method, url: cfg.url, headers: redactHeaders(headers), body: cfg.body ?? null };
  const effect = httpEffect(cfg.method, cfg.url, ctx.idempotencyKey);
  // Sent, answer not known (a timeout or a broken connection may still have reached the receiver).
  const unknown = [{ ...effect, outcome: "unknown" as const }];
  const started = Date.now();
  let res: Response;
  try {
    res = await safeFetch(
      cfg.url,
      { method: cfg.method, headers, body },
      { ...outboundPolicy(ctx.env), timeoutMs: cfg.timeout_ms },
    );
  } catch (err) {
    if (err instanceof OutboundRefused) {
      // Refused before anything left: no effect.
      return {
        kind: "failed",
        error: { error_code: "BAD_CONFIG", error_reason: err.message },
        retry: "never",
        request,
        effects: [],
      };
    }
    if (err instanceof OutboundTimeout) {
      return {
        kind: "failed",
        error: { error_code: "TIMEOUT_ERROR", error_reason: err.message },
        retry: "policy",
        request,
        effects: unknown,
      };
    }
    return {
      kind: "failed",
      error: { error_code: errorCode, error_reason: `Request failed: ${(err as Error).message}` },
      retry: "policy",
      request,
      effects: unknown,
    };
  }
  const response = { ...(await captureResponse(res)), duration_ms: Date.now() - started };
  const effects = [{ ...effect, outcome: res.ok ? ("ok" as const) : ("failed" as const), status: res.status }];
  if (res.ok) {
    return {
      kind: "success",
      outputs: { status: response.status, headers: response.headers, body: response.body, truncated: response.truncated },
      request,
      response,
      effects,
    };
  }
  const error = {
    error_code: errorCode,
    error_reason: `${cfg.method} ${cfg.url} answered ${res.status}`,
    error_info: { status: res.status, body: response.body },
  };
  if (res.status === 429) {
    const after = retryAfterMs(res.headers.get("retry-after"), ctx.now);
    return { kind: "failed", error, retry: after === null ? "policy" : { after_ms: after }, request, response, effects };
  }
  const retryable = res.status === 408 || res.status >= 500;
  return { kind: "failed", error, retry: retryable ? "policy" : "never", request, response, effects };
}
