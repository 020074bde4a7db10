import { APICallError } from "ai";
import { AppError } from "../lib/errors";
import { OutboundRefused, OutboundTimeout } from "../lib/outbound";

/**
 * What a failed model call becomes: 504 when it timed out, 502 when the provider refused or failed (its status and
 * message kept), 400 when the outbound policy refused the endpoint. Errors arrive wrapped by the SDK: the chain of
 * causes is searched.
 */

function* causes(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

const nameOf = (e: unknown): string =>
  e instanceof Error ? e.name : typeof e === "object" ? String((e as { name?: unknown }).name) : "";

export function llmFailure(err: unknown, provider: string): AppError {
  if (err instanceof AppError) return err;
  for (const e of causes(err)) {
    if (e instanceof OutboundTimeout || nameOf(e) === "TimeoutError" || nameOf(e) === "AbortError") {
      return new AppError(504, "LLM_TIMEOUT", `The ${provider} model did not answer in time`);
    }
    if (e instanceof OutboundRefused) return new AppError(400, "LLM_ENDPOINT_REFUSED", e.message);
    if (APICallError.isInstance(e)) {
      const status = e.statusCode;
      const message = vendorMessage(e.responseBody) ?? e.message;
      const code =
        status === 401 || status === 403 ? "LLM_AUTH_FAILED" : status === 429 ? "LLM_RATE_LIMITED" : "LLM_PROVIDER_ERROR";
      return new AppError(
        502,
        code,
        `The ${provider} provider answered${status ? ` HTTP ${status}` : ""}: ${message.slice(0, 500)}`,
      );
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(502, "LLM_PROVIDER_ERROR", `The ${provider} model call failed: ${message.slice(0, 500)}`);
}

/** The provider's own error message from its JSON error body (`{error: {message}}`). */
function vendorMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
    if (typeof parsed.error?.message === "string") return parsed.error.message;
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    return body.slice(0, 300);
  }
  return undefined;
}
