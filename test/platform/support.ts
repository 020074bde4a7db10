import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { ADMIN_KEY, BASE, call } from "../helpers";
import { driveIn } from "../integrations/support";
import { sinkRequests } from "../support/engine";
import type { SinkRequest } from "../support/sink";

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

/** Creates a flow with a manual trigger in `org` (expects 201). */
export async function flowIn(org: string, actions: unknown[], extra: Record<string, unknown> = {}): Promise<any> {
  return create(org, "/v1/automation/flows", { flow_name: "platform", triggers: [{ type: "manual" }], actions, ...extra });
}

/** Saving this flow is refused: returns the 400's details. */
export async function refusedFlow(org: string, actions: unknown[]): Promise<{ path: string; message: string; code?: string }[]> {
  const res = await call("POST", "/v1/automation/flows", {
    org,
    body: { flow_name: "bad", triggers: [{ type: "manual" }], actions },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  return res.body.error.details;
}

/** Starts the flow on `entityId` in `org`, fires its alarms until it settles and returns the execution. */
export async function runFlow(org: string, flowId: string, entityId = "none"): Promise<any> {
  const res = await call("POST", "/v1/automation/executions", { org, body: { flow_id: flowId, entity_id: entityId } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return driveIn(res.body.id as string, org);
}

/** Sink requests under `prefix`, with the JSON body parsed. */
export async function sinkJson(prefix: string): Promise<(SinkRequest & { json: any })[]> {
  return (await sinkRequests(prefix)).map((r) => {
    let json: unknown;
    try {
      json = r.body ? JSON.parse(r.body) : null;
    } catch {
      json = r.body;
    }
    return { ...r, json };
  });
}
