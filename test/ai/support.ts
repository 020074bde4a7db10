import { runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import { call } from "../helpers";
import { SINK, createFlow, executionStub, getExecution, sinkRequests, startExec } from "../support/engine";

export { SINK, createFlow, executionStub, getExecution, sinkRequests, startExec };

let tags = 0;
/** A path tag unique to this call, so a test finds its own requests in the sink's log. */
export const uniqueTag = (): string =>
  `t${Date.now().toString(36)}${(tags++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export type Wire = "openai" | "anthropic";

/** An LLM connection whose endpoint is the scripted model running `script`; returns its id and the sink path of its calls. */
export async function modelConnection(
  script: string,
  opts: { wire?: Wire; org?: string; name?: string; delayMs?: number } = {},
): Promise<{ id: string; path: string }> {
  const wire = opts.wire ?? "openai";
  // The sink logs a request under the path it was sent to, the /delay prefix included.
  const path = `${opts.delayMs ? `/delay/${opts.delayMs}` : ""}/ai/${wire}/${script}/${uniqueTag()}`;
  const base = `${SINK}${path}`;
  const config =
    wire === "openai"
      ? { base_url: base, model: "scripted", api_key: "sk-scripted" }
      : { base_url: base, model: "claude-scripted", api_key: "sk-ant-scripted" };
  const res = await call("POST", "/v1/connections", {
    org: opts.org ?? "org-a",
    body: { platform: wire, name: opts.name ?? `${wire} ${script}`, config },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, path };
}

/** A connection of `platform` whose calls go to the sink's vendor fake (under `prefix`, e.g. a /delay). */
export async function vendorConnection(
  platform: "hubspot" | "slack",
  opts: { org?: string; prefix?: string } = {},
): Promise<string> {
  const base = `${SINK}${opts.prefix ?? ""}/${platform}`;
  // The token names the org, so a test finds its own vendor calls in the sink's log (requestsWith).
  const org = opts.org ?? "org-a";
  const config =
    platform === "hubspot"
      ? { access_token: `pat-good-${org}`, base_url: base }
      : { bot_token: `xoxb-good-${org}`, base_url: base };
  const res = await call("POST", "/v1/connections", { org, body: { platform, name: platform, config } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** The sink's requests under `path` made with the vendor token of `org` (vendorConnection). */
export async function vendorCalls(path: string, org: string) {
  return (await sinkRequests(path)).filter((r) => (r.headers.authorization ?? "").endsWith(`-${org}`));
}

/** The model calls the sink saw under `path` (a connection's), parsed. */
export async function modelCalls(path: string): Promise<{ body: any; headers: Record<string, string> }[]> {
  return (await sinkRequests(path))
    .filter((r) => r.method === "POST")
    .map((r) => ({ body: JSON.parse(r.body), headers: r.headers }));
}

/** An organization of its own for a test (tests of a file share D1): connections are found by platform. */
export const freshOrg = (): string => `org-ai-${uniqueTag()}`;

const SETTLED = new Set(["success", "failed", "cancelled", "skipped", "hot", "paused"]);

/** Fires an execution's alarm until it settles (as support/engine.ts drive does) and reads it in `org`. */
export async function driveIn(id: string, org: string): Promise<any> {
  const stub = executionStub(id);
  for (let i = 0; i < 200; i++) {
    await runDurableObjectAlarm(stub);
    const snap = (await stub.snapshot()) as unknown as ExecutionSnapshot | null;
    if (!snap || SETTLED.has(snap.state.status)) break;
    const next = await stub.nextWakeAt();
    if (next === null || next > Date.now()) break;
  }
  return getExecution(id, org);
}

/** Runs a one-action flow with `action` and drives it until it settles. */
export async function runOne(action: Record<string, unknown>, org = "org-a"): Promise<any> {
  const flow = await createFlow({ flow_name: `ai ${action.type}`, actions: [{ id: "ai", ...action }] }, org);
  const id = await startExec(flow.id, "none", org);
  return driveIn(id, org);
}
