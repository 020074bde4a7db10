import { SELF } from "cloudflare:test";

export const ADMIN_KEY = "test-admin-key";
export const BASE = "https://engine.test";

export interface CallOptions {
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  /** Acts as the superuser in this org (default "org-a"), unless `token` is given. */
  org?: string;
  /** A bearer token (API key or JWT) to use instead of the admin key; `null` sends no credentials. */
  token?: string | null;
}

/** Calls the Worker's fetch handler and returns status and parsed JSON (or text). */
export async function call<T = any>(
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token === undefined) {
    headers["x-key"] = ADMIN_KEY;
    headers["x-org-id"] = opts.org ?? "org-a";
  } else if (opts.token !== null) {
    headers.authorization = `Bearer ${opts.token}`;
  }
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await SELF.fetch(`${BASE}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Creates an API key in `org` with `scopes` and returns its secret. */
export async function apiKey(org: string, scopes: string[]): Promise<string> {
  const res = await call("POST", "/v1/api-keys", { org, body: { name: `key-${scopes.join("-")}`, scopes } });
  if (res.status !== 201) throw new Error(`could not create key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key as string;
}
