import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { ADMIN_KEY, BASE, call } from "../helpers";

/** Helpers of the platform tests (test/platform/): a fresh organization per test, raw uploads, resource creation. */

let n = 0;
/** A fresh organization id, so tests never see each other's resources. */
export const freshOrg = (prefix = "plat") => `${prefix}-${++n}-${crypto.randomUUID().slice(0, 6)}`;

/** Uploads raw bytes as a file of `org` and returns the metadata (expects 201). */
export async function upload(
  org: string,
  bytes: string | Uint8Array,
  opts: { filename?: string; type?: string; query?: Record<string, string> } = {},
): Promise<any> {
  const q = new URLSearchParams({ ...(opts.filename ? { filename: opts.filename } : {}), ...opts.query });
  const res = await SELF.fetch(`${BASE}/v1/files?${q}`, {
    method: "POST",
    headers: { "x-key": ADMIN_KEY, "x-org-id": org, "content-type": opts.type ?? "text/plain" },
    body: bytes,
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** POSTs `body` to `path` in `org` and returns the created resource (expects 201). */
export async function create(org: string, path: string, body: unknown): Promise<any> {
  const res = await call("POST", path, { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Raw GET with the admin key: status, headers and bytes. */
export async function fetchRaw(org: string, path: string): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const res = await SELF.fetch(`${BASE}${path}`, { headers: { "x-key": ADMIN_KEY, "x-org-id": org } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

export const sha256Hex = async (bytes: Uint8Array | string): Promise<string> => {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
};
