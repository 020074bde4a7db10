import { z } from "zod";

/**
 * One provider = one module behind this interface: a platform id, the JSON config of its connections (zod; the
 * registry publishes it as JSON Schema), the secret fields of that config, its actions (param and result
 * schemas, each calling the vendor's real HTTP API) and an auth check used by connection tests.
 */

/** Why a vendor call failed; decides connection status and the engine's retry. */
export type FailureKind =
  /** The credentials were refused (connection status `error`). */
  | "auth"
  /** The credentials expired (connection status `expired`). */
  | "expired"
  /** 429: retry after `retry_after_ms`. */
  | "rate_limited"
  /** The vendor refused the request itself (4xx): retrying will not help. */
  | "vendor"
  /** The vendor failed (5xx, 408) or could not be reached: retrying may help. */
  | "unavailable"
  | "timeout"
  /** The outbound policy refused the URL (SSRF guard). */
  | "refused";

export type ProviderResult<T = unknown> =
  | { success: true; data: T; status?: number }
  | {
      success: false;
      /** The vendor's own message where it gave one. */
      error: string;
      kind: FailureKind;
      /** The vendor's HTTP status, when it answered. */
      status?: number;
      /** The vendor's error code (`channel_not_found`, 21211, ...). */
      vendor_code?: string | number;
      retry_after_ms?: number;
    };

/** A request to the vendor; `path` is relative to the vendor's API root, which a connection's `base_url` replaces. */
export interface VendorRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string | undefined>;
  /** Send the engine's idempotency key (for vendors that honour `Idempotency-Key`). */
  idempotent?: boolean;
}

export interface VendorResponse {
  status: number;
  ok: boolean;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
}

/** What an action or auth check of a provider sees. */
export interface ProviderContext<C> {
  config: C;
  /** Sends one request to the vendor (through the outbound policy); throws only for network-level failures. */
  request(req: VendorRequest): Promise<VendorResponse>;
  now: number;
}

/**
 * What a tool does to the world: `read` only looks (safe to run on a model's word), `write` sends, creates, updates or
 * deletes something (a model may only propose it: a person approves, see llm/chat.ts).
 */
export type ToolEffect = "read" | "write";

export interface ProviderAction<C = unknown, P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  title: string;
  /** What running it does: every vendor call that sends or changes something is `write`. */
  effect: ToolEffect;
  description: string;
  /** Its requests carry the engine's idempotency key (`idempotent` requests): the vendor may drop a repeat. */
  idempotent?: boolean;
  params: P;
  result: R;
  run(ctx: ProviderContext<C>, params: z.output<P>): Promise<ProviderResult<z.output<R>>>;
}

export type ProviderCategory = "chat" | "crm" | "calendar" | "email" | "sms" | "http" | "llm" | "mcp";

export interface Provider<CS extends z.ZodType = z.ZodType> {
  platform: string;
  title: string;
  description: string;
  category: ProviderCategory;
  docs_url: string;
  config: CS;
  /** Dotted paths of the config's secret fields: encrypted with the rest, masked in every response. */
  secretFields: readonly string[];
  /** Config fields holding URLs the engine will call: checked against the outbound policy at save time. */
  urlFields?: readonly string[];
  /** The vendor's API root for this config (`base_url` in the config replaces it). */
  apiRoot(config: z.output<CS>): string;
  actions: Record<string, ProviderAction<z.output<CS>>>;
  /** Checks the credentials with a read-only call where the vendor has one; returns what it learnt. */
  authCheck(ctx: ProviderContext<z.output<CS>>): Promise<ProviderResult<Record<string, unknown>>>;
}

export type AnyProvider = Provider<z.ZodType>;

export const defineProvider = <CS extends z.ZodType>(p: Provider<CS>): AnyProvider => p;

/** Fixes the config type of a provider's actions so params and results are inferred. */
export const providerAction =
  <C>() =>
  <P extends z.ZodType, R extends z.ZodType>(a: ProviderAction<C, P, R>): ProviderAction<C> =>
    a;

/** Every connection config may send its calls elsewhere: a gateway, a regional endpoint, a local handler in tests. */
export const BaseUrlField = z
  .string()
  .url()
  .max(2000)
  .optional()
  .describe("Send this connection's calls to this URL instead of the vendor's API root (outbound host rules apply)");

export const SecretString = (description: string) => z.string().min(1).max(4000).describe(description);

/** A vendor error response as a failed result: 429 honours Retry-After, 401/403 are auth failures. */
export function httpFailure(
  res: VendorResponse,
  message: string,
  opts: { vendor_code?: string | number; kind?: FailureKind; now?: number } = {},
): ProviderResult<never> {
  let kind: FailureKind = opts.kind ?? "vendor";
  let retry_after_ms: number | undefined;
  if (!opts.kind) {
    if (res.status === 429) kind = "rate_limited";
    else if (res.status === 401 || res.status === 403) kind = "auth";
    else if (res.status === 408 || res.status >= 500) kind = "unavailable";
  }
  if (kind === "rate_limited") retry_after_ms = retryAfterMs(res.headers["retry-after"], opts.now ?? Date.now()) ?? undefined;
  return {
    success: false,
    error: message || `HTTP ${res.status}`,
    kind,
    status: res.status,
    ...(opts.vendor_code !== undefined ? { vendor_code: opts.vendor_code } : {}),
    ...(retry_after_ms !== undefined ? { retry_after_ms } : {}),
  };
}

/** Retry-After in seconds (possibly fractional) or as an HTTP date, in ms from `now`. */
export function retryAfterMs(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Reads a string property of an unknown JSON body. */
export function str(body: unknown, key: string): string | undefined {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const v = (body as Record<string, unknown>)[key];
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
  }
  return undefined;
}

export const obj = (body: unknown): Record<string, unknown> =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
