import { describe, expect, it } from "vitest";
import { isTriggerRoute } from "../../src/api/rate-limit";

/** The dialects' routes that start runs are limited as triggers, like the engine's own. */
describe("dialect trigger routes", () => {
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
      expect(isTriggerRoute("POST", path), path).toBe(true);
    }
  });

  it("reads and other writes do not", () => {
    expect(isTriggerRoute("GET", "/api/v1/automations/a1/trigger")).toBe(false);
    for (const path of [
      "/api/v1/automations",
      "/api/v1/automations/a1/actions",
      "/v1/automations/a1/enable",
      "/v1/automations",
      "/v1/workflows",
      "/v1/agents/ag1/pause",
      "/v1/conversations",
    ]) {
      expect(isTriggerRoute("POST", path), path).toBe(false);
    }
  });
});
