import { LIMITS } from "./limits";
import { checkOutboundUrl, parseAllowedHosts } from "./ssrf";

export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundRefused";
  }
}
export class OutboundTimeout extends Error {
  constructor(ms: number) {
    super(`No response within ${ms} ms`);
    this.name = "OutboundTimeout";
  }
}

export interface OutboundOptions {
  allowedHosts: string | undefined;
  timeoutMs?: number;
  /** Upper bound of `timeoutMs` (default MAX_WEBHOOK_TIMEOUT_MS); LLM calls take longer than webhooks. */
  maxTimeoutMs?: number;
  selfHost?: string;
  /** Secret values (a connection's credentials): a header carrying one is not sent to another origin. */
  secrets?: readonly string[];
}

export interface CapturedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  truncated: boolean;
  bytes: number;
}

/** Reads at most `limit` bytes of a body; the rest is discarded and reported as truncated. */
export async function readCapped(
  res: Response,
  limit = LIMITS.MAX_CAPTURED_BODY_BYTES,
): Promise<{ text: string; truncated: boolean; bytes: number }> {
  if (!res.body) return { text: "", truncated: false, bytes: 0 };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (kept < limit) {
      const piece = value.subarray(0, limit - kept);
      chunks.push(piece);
      kept += piece.byteLength;
    }
  }
  const buf = new Uint8Array(kept);
  let off = 0;
  for (const c of chunks) {
    buf.set(c, off);
    off += c.byteLength;
  }
  return { text: new TextDecoder().decode(buf), truncated: total > limit, bytes: total };
}

export async function captureResponse(res: Response): Promise<CapturedResponse> {
  const { text, truncated, bytes } = await readCapped(res);
  let body: unknown = text;
  if (!truncated && /json/i.test(res.headers.get("content-type") ?? "")) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), body, truncated, bytes };
}

/**
 * Headers that may follow a redirect to another origin: they describe the request, none can authenticate it. Any
 * other header (Authorization, Cookie, Proxy-Authorization, API-key and signature headers, a vendor's custom
 * credential header) stays with the origin the caller chose.
 */
const CROSS_ORIGIN_HEADERS = new Set(["accept", "accept-language", "content-language", "content-type", "user-agent"]);

/** The headers sent on after a redirect to another origin: the safe ones that carry no secret value. */
export function crossOriginHeaders(headers: HeadersInit | undefined, secrets: readonly string[] = []): Headers {
  const kept = new Headers();
  const values = secrets.filter((s) => s.length >= 4);
  for (const [name, value] of new Headers(headers)) {
    if (CROSS_ORIGIN_HEADERS.has(name) && !values.some((s) => value.includes(s))) kept.set(name, value);
  }
  return kept;
}

/**
 * fetch() under the outbound policy: the URL and every redirect target are checked, redirects are
 * followed by hand (303 turns into GET; a hop to another origin drops every credential header), and the
 * whole exchange is bounded by a timeout.
 */
export async function safeFetch(rawUrl: string, init: RequestInit, opts: OutboundOptions): Promise<Response> {
  const allowed = parseAllowedHosts(opts.allowedHosts);
  const timeoutMs = Math.min(
    opts.timeoutMs ?? LIMITS.OUTBOUND_DEFAULT_TIMEOUT_MS,
    opts.maxTimeoutMs ?? LIMITS.MAX_WEBHOOK_TIMEOUT_MS,
  );
  const signal = AbortSignal.timeout(timeoutMs);
  let url = rawUrl;
  let reqInit: RequestInit = { ...init, redirect: "manual", signal };
  for (let hop = 0; ; hop++) {
    const check = checkOutboundUrl(url, allowed, opts.selfHost);
    if (!check.ok) throw new OutboundRefused(`Refused outbound call to ${url}: ${check.reason}`);
    let res: Response;
    try {
      res = await fetch(check.url.toString(), reqInit);
    } catch (err) {
      if (signal.aborted) throw new OutboundTimeout(timeoutMs);
      throw err;
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      if (hop >= LIMITS.OUTBOUND_MAX_REDIRECTS) throw new OutboundRefused(`More than ${LIMITS.OUTBOUND_MAX_REDIRECTS} redirects`);
      await res.body?.cancel();
      const next = new URL(location, check.url);
      if (next.origin !== check.url.origin) reqInit = { ...reqInit, headers: crossOriginHeaders(reqInit.headers, opts.secrets) };
      url = next.toString();
      if (res.status === 303) reqInit = { ...reqInit, method: "GET", body: undefined };
      continue;
    }
    return res;
  }
}

const SECRET_HEADERS = /^(authorization|proxy-authorization|x-api-key|x-key|cookie|.*secret.*|.*token.*|webhook-signature)$/i;

/** Header values that carry credentials are masked in the run history. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.test(k) ? "[redacted]" : v]));
}
