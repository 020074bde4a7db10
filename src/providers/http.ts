import { LIMITS } from "../lib/limits";
import { OutboundRefused, OutboundTimeout, readCapped, redactHeaders, safeFetch } from "../lib/outbound";
import type { FailureKind, VendorRequest, VendorResponse } from "./types";

/** A call that never got a vendor answer (refused by the outbound policy, timed out, network error). */
export class TransportFailure extends Error {
  constructor(
    readonly kind: Extract<FailureKind, "refused" | "timeout" | "unavailable">,
    message: string,
  ) {
    super(message);
    this.name = "TransportFailure";
  }
}

/** One request/response pair as kept in the run history: credentials masked. */
export interface Exchange {
  request: { method: string; url: string; headers: Record<string, string>; body: unknown };
  response?: { status: number; headers: Record<string, string>; body: unknown; duration_ms: number };
}

export interface RequesterOptions {
  apiRoot: string;
  allowedHosts: string | undefined;
  idempotencyKey?: string;
  /** Secret values that must not appear in the recorded exchange. */
  secrets: string[];
  timeoutMs?: number;
}

/** Replaces every occurrence of a secret value in strings inside `value`. */
export function scrub<T>(value: T, secrets: string[]): T {
  const list = secrets.filter((s) => s.length >= 4);
  if (list.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return list.reduce((acc, s) => acc.split(s).join("[redacted]"), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

function buildUrl(root: string, req: VendorRequest): string {
  // An empty path is the root itself (an MCP endpoint URL is called as it was entered).
  const url = new URL(req.path === "" ? root : root.replace(/\/+$/, "") + (req.path.startsWith("/") ? req.path : `/${req.path}`));
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

function parseBody(text: string, contentType: string): unknown {
  if (text === "") return null;
  if (/json/i.test(contentType) || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * The HTTP client of the providers: joins the API root (or the connection's base_url) and the path, sends
 * through the outbound policy with a timeout, parses the answer, and records every exchange with secrets masked.
 */
export function createRequester(opts: RequesterOptions) {
  const exchanges: Exchange[] = [];
  async function request(req: VendorRequest): Promise<VendorResponse> {
    const url = buildUrl(opts.apiRoot, req);
    const headers: Record<string, string> = { "user-agent": "automation-engine/1.0", accept: "application/json", ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] = "application/json";
    } else if (req.form) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(req.form)) if (v !== undefined) form.append(k, v);
      body = form.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    if (req.idempotent && opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
    const exchange: Exchange = {
      request: scrub(
        { method: req.method, url, headers: redactHeaders(headers), body: req.json ?? req.form ?? null },
        opts.secrets,
      ),
    };
    exchanges.push(exchange);
    const started = Date.now();
    let res: Response;
    try {
      res = await safeFetch(
        url,
        { method: req.method, headers, body },
        { allowedHosts: opts.allowedHosts, timeoutMs: opts.timeoutMs ?? LIMITS.PROVIDER_TIMEOUT_MS, secrets: opts.secrets },
      );
    } catch (err) {
      if (err instanceof OutboundRefused) throw new TransportFailure("refused", scrub(err.message, opts.secrets));
      if (err instanceof OutboundTimeout) throw new TransportFailure("timeout", err.message);
      throw new TransportFailure("unavailable", scrub(`Request failed: ${(err as Error).message}`, opts.secrets));
    }
    const { text } = await readCapped(res);
    const resHeaders = Object.fromEntries(res.headers);
    const parsed = parseBody(text, res.headers.get("content-type") ?? "");
    exchange.response = scrub(
      { status: res.status, headers: resHeaders, body: parsed, duration_ms: Date.now() - started },
      opts.secrets,
    );
    return { status: res.status, ok: res.ok, headers: resHeaders, body: parsed };
  }
  return { request, exchanges };
}
