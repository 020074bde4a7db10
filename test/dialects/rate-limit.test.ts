import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";

type OpenApiDocument = { paths: Record<string, Record<string, { "x-rate-limit"?: string }>> };

/**
 * The dialects' routes that start runs are limited as triggers, like the engine's own: their definitions say
 * `x-rate-limit: trigger` (api/router.ts triggerRoute), which the rate-limit middleware reads
 * (test/security/trigger-routes.test.ts walks every operation through the middleware).
 */
const TRIGGER = "trigger";

/** The `x-rate-limit` of the operation serving `method concrete` (a path with ids filled in). */
function markOf(doc: OpenApiDocument, method: string, concrete: string): string | undefined {
  const m = method.toLowerCase();
  const matches = (template: string) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(concrete);
  const path = Object.keys(doc.paths).find((p) => doc.paths[p][m] !== undefined && matches(p));
  expect(path, `${method} ${concrete} is an operation`).toBeDefined();
  return doc.paths[path!][m]["x-rate-limit"];
}

describe("dialect trigger routes", () => {
  // The document the Worker serves at /openapi.json, built from the same route definitions without a request.
  const doc = createApp().getOpenAPIDocument({
    openapi: "3.0.3",
    info: { title: "t", version: "1" },
  }) as unknown as OpenApiDocument;

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
