import { describe, expect, it } from "vitest";
import { loadDocument, operationsOf, type OpenApiDocument } from "../support/openapi";

/**
 * The dialects' routes that start runs are limited as triggers, like the engine's own: their definitions say
 * `x-rate-limit: trigger` (api/router.ts triggerRoute), which the rate-limit middleware reads
 * (test/security/trigger-routes.test.ts walks every operation through the middleware).
 */
const TRIGGER = "trigger";

function markOf(doc: OpenApiDocument, method: string, concrete: string): string | undefined {
  const op = operationsOf(doc).find(
    (o) =>
      o.method === method &&
      new RegExp(`^${o.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`).test(concrete),
  );
  expect(op, `${method} ${concrete} is an operation`).toBeDefined();
  return (doc.paths[op!.path][method.toLowerCase()] as { "x-rate-limit"?: string })["x-rate-limit"];
}

describe("dialect trigger routes", async () => {
  const doc = await loadDocument();

  it("Plura's execute, TrustPager's trigger and single-action execute, Coherence's trigger and test count as triggers", () => {
    for (const path of [
      "/api/automation/execute",
      "/api/v1/automations/a1/trigger",
      "/api/v1/automations/a1/actions/x/execute",
      "/v1/automations/a1/trigger",
      "/v1/automations/a1/test",
      "/v1/workflows/w1/execute",
      "/v1/agents/ag1/execute",
      "/v1/conversations/c1/messages",
      "/v1/conversations/c1/messages:stream",
      "/v1/llm/workflows:generate",
    ]) {
      expect(markOf(doc, "POST", path), path).toBe(TRIGGER);
    }
  });

  it("reads and other writes do not", () => {
    expect(markOf(doc, "GET", "/api/v1/automations/a1")).toBeUndefined();
    for (const [method, path] of [
      ["GET", "/api/v1/automations"],
      ["POST", "/api/v1/automations"],
      ["GET", "/api/v1/automations/a1/actions"],
      ["POST", "/v1/automations/a1/enable"],
      ["POST", "/v1/automations"],
      ["POST", "/v1/workflows"],
      ["POST", "/v1/agents/ag1/pause"],
      ["POST", "/v1/conversations"],
    ]) {
      expect(markOf(doc, method, path), `${method} ${path}`).toBeUndefined();
    }
  });
});
