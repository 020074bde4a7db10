import { describe, expect, it } from "vitest";
import { flowGraph } from "../../console/graph-model";
import type { Flow } from "../../console/types";

const base: Omit<Flow, "triggers" | "actions"> = {
  id: "f",
  flow_name: "f",
  enabled: true,
  runs: 0,
  last_run_at: null,
  success_rate: null,
  consecutive_failures: 0,
  updated_at: "2026-01-01T00:00:00.000Z",
};

describe("the console's flow graph", () => {
  it("groups actions into branches per condition and loops, with their waits, after the flow-level gate", () => {
    const graph = flowGraph({
      ...base,
      triggers: [{ id: "t", type: "entity_operation", configuration: { schema: "contact", operation: "createEntity" } }],
      trigger_conditions: [{ source: "entity.status", comparison: "equals", value: "active" }],
      conditions: [
        { field: "email", operator: "is_not_empty" },
        { id: "c1", schedule_id: "s1", statements: [{ source: { attribute: "plan" }, operation: "equals", values: ["pro"] }] },
      ],
      schedules: [
        { id: "s1", numberOfUnits: 2, timePeriod: "days", timeRelation: "after", source: { id: "t", origin: "trigger" } },
      ],
      loops: [{ id: "l1", source_path: "items" }],
      actions: [
        { id: "a", type: "call_webhook" },
        { id: "b", type: "delay", config: { duration: 5, unit: "minutes" } },
        { id: "c", name: "Per item", type: "call_webhook", condition_id: "c1", loop_id: "l1" },
        { id: "d", type: "call_webhook", condition_id: "c1", loop_id: "l1" },
        { id: "e", type: "call_webhook", condition_id: "c1" },
      ],
    });
    expect(graph.triggers).toEqual([
      { id: "t", type: "entity_operation", label: "entity_operation (schema: contact, operation: createEntity)" },
    ]);
    expect(graph.gate).toEqual(['trigger entity.status equals "active"', "email is_not_empty"]);
    expect(graph.steps.map((s) => [s.kind, s.id])).toEqual([
      ["action", "a"],
      ["action", "b"],
      ["branch", "c1"],
    ]);
    expect(graph.steps[1]).toMatchObject({ wait: "delay: duration 5, unit minutes" });
    const branch = graph.steps[2];
    if (branch.kind !== "branch") throw new Error("expected a branch");
    expect(branch.label).toBe("if plan equals pro");
    expect(branch.wait).toBe("wait 2 days after trigger t");
    expect(branch.children.map((c) => [c.kind, c.id])).toEqual([
      ["loop", "l1"],
      ["action", "e"],
    ]);
    const loop = branch.children[0];
    if (loop.kind !== "loop") throw new Error("expected a loop");
    expect(loop.label).toBe("for each item of items");
    expect(loop.children.map((a) => [a.id, a.label, a.index])).toEqual([
      ["c", "Per item", 2],
      ["d", "call_webhook", 3],
    ]);
  });

  it("shows an action's own schedule as its wait, and a flow with no conditions has no gate", () => {
    const graph = flowGraph({
      ...base,
      triggers: [{ type: "manual" }],
      schedules: [
        {
          id: "s",
          numberOfUnits: 3,
          timePeriod: "hours",
          timeRelation: "before",
          source: { id: "t", origin: "trigger", attribute: "due" },
        },
      ],
      actions: [{ id: "x", type: "call_webhook", schedule_id: "s" }],
    });
    expect(graph.gate).toEqual([]);
    expect(graph.triggers[0]).toMatchObject({ id: "trigger-0", label: "manual" });
    expect(graph.steps).toEqual([
      { kind: "action", id: "x", index: 0, label: "call_webhook", type: "call_webhook", wait: "wait 3 hours before trigger due" },
    ]);
  });
});
