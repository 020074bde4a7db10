import { describe, expect, it } from "vitest";
import { evaluateSimpleCondition, evaluateSimpleConditions, type EvaluationContext } from "../../../src/engine/conditions";
import type { SimpleCondition } from "../../../src/schemas/conditions";

const ctx: EvaluationContext = {
  entity: {
    id: "rec_1",
    source: "website",
    email: "lead@example.com",
    value: 60000,
    amount_text: "60000",
    stage: "proposal",
    active: true,
    name: "",
    tags: ["vip", "b2b"],
    created_at: "2024-01-15T10:30:00Z",
    address: { city: "Berlin", zip: "10115" },
  },
  previous: { stage: "lead", address: { city: "Berlin", zip: "10115" } },
  diff: { updated: { stage: "proposal" } },
  trigger: { type: "record.updated", module: "deals" },
  actions: { a1: { outputs: { id: "task_1" } } },
  loop: { item: { name: "row" }, index: 2 },
  variables: { threshold: 50000 },
  user: { id: "u1", email: "owner@example.com" },
};

const run = (cond: SimpleCondition, c: EvaluationContext = ctx) => evaluateSimpleCondition(cond, c);

describe("Coherence conditions", () => {
  it.each<[string, SimpleCondition, boolean]>([
    ["equals text", { field: "source", operator: "equals", value: "website" }, true],
    ["equals is case-sensitive", { field: "source", operator: "equals", value: "Website" }, false],
    ["not_equals", { field: "source", operator: "not_equals", value: "ads" }, true],
    ["contains ignores case", { field: "email", operator: "contains", value: "EXAMPLE" }, true],
    ["not_contains", { field: "email", operator: "not_contains", value: "spam" }, true],
    ["starts_with", { field: "email", operator: "starts_with", value: "lead@" }, true],
    ["ends_with", { field: "email", operator: "ends_with", value: ".org" }, false],
    ["greater_than number", { field: "value", operator: "greater_than", value: 50000 }, true],
    ["greater_than numeric text record field", { field: "amount_text", operator: "greater_than", value: 50000 }, true],
    ["less_than number", { field: "value", operator: "less_than", value: 50000 }, false],
    ["equals number vs numeric string value", { field: "value", operator: "equals", value: "60000" }, true],
    ["date ordering from ISO text", { field: "created_at", operator: "greater_than", value: "2024-01-01" }, true],
    ["boolean value", { field: "active", operator: "equals", value: true }, true],
    ["boolean value vs text", { field: "active", operator: "equals", value: "true" }, true],
    ["is_empty on empty text", { field: "name", operator: "is_empty" }, true],
    ["is_not_empty", { field: "email", operator: "is_not_empty" }, true],
    ["is_empty on missing", { field: "nope", operator: "is_empty" }, true],
    ["equals null matches missing", { field: "nope", operator: "equals", value: null }, true],
    ["contains on a list is membership", { field: "tags", operator: "contains", value: "vip" }, true],
    ["equals a list as a set", { field: "tags", operator: "equals", value: ["b2b", "vip"] }, true],
    ["nested record field", { field: "address.city", operator: "equals", value: "Berlin" }, true],
    ["record. prefix", { field: "record.stage", operator: "equals", value: "proposal" }, true],
    ["entity. prefix", { field: "entity.id", operator: "equals", value: "rec_1" }, true],
    ["previous. root", { field: "previous.stage", operator: "equals", value: "lead" }, true],
    ["trigger. root", { field: "trigger.type", operator: "equals", value: "record.updated" }, true],
    ["actions. root", { field: "actions.a1.outputs.id", operator: "starts_with", value: "task_" }, true],
    ["loop. root", { field: "loop.item.name", operator: "equals", value: "row" }, true],
    ["loop index", { field: "loop.index", operator: "greater_than", value: 1 }, true],
    ["variables. root", { field: "variables.threshold", operator: "less_than", value: 60000 }, true],
    ["user. root", { field: "user.email", operator: "ends_with", value: "@example.com" }, true],
    ["missing root value", { field: "variables.nope", operator: "is_not_empty" }, false],
  ])("%s", (_l, cond, passed) => {
    const r = run(cond);
    expect(r.passed).toBe(passed);
    expect(r).toMatchObject({ field: cond.field, operator: cond.operator });
  });

  it("explains the statement as in the Coherence dry run", () => {
    expect(run({ field: "source", operator: "equals", value: "website" })).toEqual({
      field: "source",
      operator: "equals",
      value: "website",
      actual_value: "website",
      passed: true,
    });
    expect(run({ field: "nope", operator: "equals", value: "x" })).toMatchObject({ actual_value: null, passed: false });
  });

  it("a malformed field path fails with the reason", () => {
    const r = run({ field: "a..b", operator: "is_empty" });
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/Invalid path "a..b"/);
  });

  it("all conditions must pass", () => {
    const conds: SimpleCondition[] = [
      { field: "source", operator: "equals", value: "website" },
      { field: "value", operator: "greater_than", value: 100000 },
    ];
    const r = evaluateSimpleConditions(conds, ctx);
    expect(r.passed).toBe(false);
    expect(r.statements.map((s) => s.passed)).toEqual([true, false]);
    expect(evaluateSimpleConditions([], ctx).passed).toBe(true);
  });
});

describe("changed, changed_to, changed_from", () => {
  it("uses the diff to know what changed and previous for the old value", () => {
    expect(run({ field: "stage", operator: "changed" })).toMatchObject({
      passed: true,
      actual_value: "proposal",
      previous_value: "lead",
    });
    expect(run({ field: "stage", operator: "changed_to", value: "proposal" }).passed).toBe(true);
    expect(run({ field: "stage", operator: "changed_to", value: "won" }).passed).toBe(false);
    expect(run({ field: "stage", operator: "changed_from", value: "lead" }).passed).toBe(true);
    expect(run({ field: "stage", operator: "changed_from", value: "proposal" }).passed).toBe(false);
    expect(run({ field: "source", operator: "changed" }).passed).toBe(false);
  });

  it("a nested field changed only when its value differs", () => {
    const c: EvaluationContext = {
      entity: { address: { city: "Hamburg", zip: "10115" } },
      previous: { address: { city: "Berlin", zip: "10115" } },
      diff: { updated: { address: { city: "Hamburg", zip: "10115" } } },
    };
    expect(run({ field: "address.city", operator: "changed_to", value: "Hamburg" }, c).passed).toBe(true);
    expect(run({ field: "address.zip", operator: "changed" }, c).passed).toBe(false);
  });

  it("without a diff, previous is compared with the record", () => {
    const c: EvaluationContext = { entity: { stage: "won", owner: "a" }, previous: { stage: "proposal", owner: "a" } };
    expect(run({ field: "stage", operator: "changed_from", value: "proposal" }, c).passed).toBe(true);
    expect(run({ field: "owner", operator: "changed" }, c).passed).toBe(false);
    expect(run({ field: "new_field", operator: "changed" }, { entity: { new_field: 1 }, previous: {} }).passed).toBe(true);
  });

  it("added and deleted attributes changed; a create without previous values changed what it added", () => {
    const created: EvaluationContext = { entity: { stage: "lead" }, diff: { added: { stage: "lead" } } };
    expect(run({ field: "stage", operator: "changed_to", value: "lead" }, created)).toMatchObject({
      passed: true,
      previous_value: null,
    });
    const deleted: EvaluationContext = { entity: {}, previous: { stage: "lead" }, diff: { deleted: { stage: null } } };
    expect(run({ field: "stage", operator: "changed_from", value: "lead" }, deleted).passed).toBe(true);
    expect(run({ field: "stage", operator: "changed_to", value: null }, deleted).passed).toBe(true);
  });

  it("with neither previous values nor a diff nothing changed", () => {
    expect(run({ field: "stage", operator: "changed" }, { entity: { stage: "x" } }).passed).toBe(false);
  });

  it("typed comparison of the new value", () => {
    const c: EvaluationContext = { entity: { amount: "100" }, previous: { amount: "50" } };
    expect(run({ field: "amount", operator: "changed_to", value: 100 }, c).passed).toBe(true);
    expect(run({ field: "amount", operator: "changed_from", value: 50 }, c).passed).toBe(true);
  });

  it("applies to record fields only", () => {
    const r = run({ field: "previous.stage", operator: "changed" });
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/record fields only/);
  });
});
