/**
 * Issue 24 item 9: whether a route counts as a trigger for rate limiting is read from its definition, as whether
 * it is public is (`security: []`): `triggerRoute` (api/router.ts) writes `x-rate-limit: trigger` into the operation,
 * and the rate-limit middleware reads the matched route's definition. The test walks every operation of
 * /openapi.json with a trigger limiter that refuses everything swapped in: an operation marked as a trigger is
 * refused by it (429, "executions started"), every other one never reaches it. The operations that start work,
 * call a model or call a vendor must be marked: the list below names each.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { BASE, apiKey } from "../helpers";
import { loadDocument, operationsOf } from "../support/openapi";

vi.setConfig({ testTimeout: 120_000 });

/** Operations that start executions, run tools, call a model or a vendor: each counts against the trigger limits. */
const MUST_COUNT = [
  // Starts and re-runs of executions, in the engine's API and the dialects'.
  "startExecution",
  "bulkTriggerExecutions",
  "retriggerAction",
  "createBulkRerun",
  "triggerFlow",
  "testFlow",
  "executeFlowAction",
  "executeAutomation",
  "submitApiEvent",
  "submitAutomationEvent",
  "pluraExecute",
  "trustpagerTriggerAutomation",
  "trustpagerExecuteAction",
  "coherenceTriggerAutomation",
  "coherenceTestAutomation",
  "arrotechExecuteWorkflow",
  "arrotechExecuteAgent",
  // Tools and model calls.
  "callTool",
  "callToolStream",
  "sendConversationMessage",
  "streamConversationMessage",
  "generateWorkflow",
  "llmDirectResponse",
  "explainIntent",
  "explainRelevantTools",
  "ollamaDiagnostic",
  // Calls to a vendor with a connection's credentials.
  "testConnection",
  "testConnectionConfig",
];

/** A limiter that refuses every key and remembers which it was asked about. */
function refusingLimiter(asked: string[]): RateLimit {
  return {
    limit: async ({ key }: RateLimitOptions) => {
      asked.push(key);
      return { success: false };
    },
  } as RateLimit;
}

async function send(overrides: Partial<Env>, method: string, path: string, token: string) {
  const ctx = createExecutionContext();
  const body = ["POST", "PUT", "PATCH"].includes(method) ? "{}" : undefined;
  const req = new Request(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body,
  });
  const res = await createApp().fetch(req, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, text: await res.text() };
}

describe("trigger rate limits come from the route definitions (item 9)", async () => {
  const doc = await loadDocument();
  const ops = operationsOf(doc).filter((op) => !op.isPublic);
  const marked = (id: string) => {
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item) as { operationId?: string; "x-rate-limit"?: string }[])
        if (op.operationId === id) return op["x-rate-limit"] === "trigger";
    return false;
  };

  it("every operation that starts work, calls a model or a vendor is marked x-rate-limit: trigger", () => {
    const ids = new Set(ops.map((op) => op.id));
    for (const id of MUST_COUNT) expect(ids.has(id), `${id} is an operation of the document`).toBe(true);
    expect(MUST_COUNT.filter((id) => !marked(id))).toEqual([]);
  });

  it("walking every operation: the trigger limiter is consulted exactly for the marked ones", async () => {
    const token = await apiKey(`trig-walk-${crypto.randomUUID().slice(0, 8)}`, ["admin"]);
    const wrong: string[] = [];
    let counted = 0;
    for (const op of ops) {
      const asked: string[] = [];
      const path = op.path.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000");
      const res = await send(
        { RL_TRIGGER_KEY: refusingLimiter(asked), RL_TRIGGER_ORG: undefined, RL_API_KEY: undefined, RL_API_ORG: undefined },
        op.method,
        path,
        token,
      );
      const refused = res.status === 429 && res.text.includes("executions started");
      const expected = marked(op.id);
      if (expected) counted++;
      if (refused !== expected || asked.length > 0 !== expected)
        wrong.push(`${op.id} (${op.method} ${op.path}): marked ${expected}, limiter asked ${asked.length}, ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(counted).toBeGreaterThanOrEqual(MUST_COUNT.length);
    console.log(`trigger routes: ${counted} of ${ops.length} authenticated operations count as triggers`);
  });
});
