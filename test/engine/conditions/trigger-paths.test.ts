import { describe, expect, it } from "vitest";
import { evaluateTriggerCondition, evaluateTriggerConditions, getPath, lookup, parsePath } from "../../../src/engine/conditions";
import type { TriggerCondition } from "../../../src/schemas/conditions";

describe("paths", () => {
  it.each<[string, (string | number)[]]>([
    ["a", ["a"]],
    ["a.b.c", ["a", "b", "c"]],
    ["a.b[0].c", ["a", "b", 0, "c"]],
    ["steps[0]['Contracts']", ["steps", 0, "Contracts"]],
    ['a["x.y"].z', ["a", "x.y", "z"]],
    ["items.0.id", ["items", "0", "id"]],
    ["a[ 12 ]", ["a", 12]],
    ["m['it\\'s']", ["m", "it's"]],
  ])("parses %s", (path, segments) => {
    expect(parsePath(path)).toEqual(segments);
  });

  it.each(["", "a..b", ".a", "a.", "a[", "a[x]", "a[-1]", "a['x]", "a]b", "a[0]b", "x".repeat(501)])("rejects %j", (path) => {
    expect(() => parsePath(path)).toThrow(/Invalid path/);
  });

  const doc = {
    a: { b: [{ c: 1 }, { c: 2 }] },
    steps: [{ Contracts: ["k1"] }],
    emails: [{ email: "a@x" }, { email: "b@x" }, { other: 1 }],
    nested: [{ list: [1, 2] }, { list: [3] }],
    "x.y": 5,
    nul: null,
  };
  it.each<[string, boolean, unknown]>([
    ["a.b[1].c", true, 2],
    ["a.b.0.c", true, 1],
    ["steps[0]['Contracts'][0]", true, "k1"],
    ["emails.email", true, ["a@x", "b@x"]],
    ["nested.list", true, [1, 2, 3]],
    ["['x.y']", true, 5],
    ["nul", true, null],
    ["nul.x", false, undefined],
    ["a.b[5]", false, undefined],
    ["emails.nope", false, undefined],
    ["missing.deep", false, undefined],
  ])("looks up %s", (path, found, value) => {
    expect(lookup(doc, path)).toEqual({ found, value });
  });

  it("never reaches prototypes", () => {
    expect(lookup(doc, "constructor").found).toBe(false);
    expect(lookup(doc, "a.__proto__").found).toBe(false);
    expect(lookup(doc, "a.b.length").found).toBe(false);
    expect(getPath("text", "length")).toBeUndefined();
    expect(lookup(JSON.parse('{"__proto__": {"x": 1}}'), "__proto__.x")).toEqual({ found: true, value: 1 });
  });
});

describe("TriggerCondition", () => {
  const event = {
    type: "entity_operation",
    operation: "updateEntity",
    amount: 5,
    count_text: "7",
    emails: ["a@x.com", "b@x.com"],
    items: [{ sku: "A-1" }, { sku: "B-2" }],
    steps: [{ Contracts: [{ id: "c1" }] }],
    blank: "",
    empty_list: [],
    entity: { _schema: "contact", billing_contact: { email: "bill@x.com" } },
  };
  it.each<[string, TriggerCondition, boolean]>([
    ["equals text", { source: "operation", comparison: "equals", value: "updateEntity" }, true],
    ["equals is exact", { source: "operation", comparison: "equals", value: "updateentity" }, false],
    ["equals number vs number", { source: "amount", comparison: "equals", value: 5 }, true],
    ["equals number vs numeric text", { source: "amount", comparison: "equals", value: "5.0" }, true],
    ["equals numeric text vs number", { source: "count_text", comparison: "equals", value: 7 }, true],
    ["equals on a list matches an item", { source: "emails", comparison: "equals", value: "b@x.com" }, true],
    [
      "equals with a list value is any_of",
      { source: "operation", comparison: "equals", value: ["createEntity", "updateEntity"] },
      true,
    ],
    ["any_of", { source: "items[1].sku", comparison: "any_of", value: ["B-2", "C-3"] }, true],
    ["any_of numbers", { source: "amount", comparison: "any_of", value: [1, 5] }, true],
    ["any_of miss", { source: "items[0].sku", comparison: "any_of", value: ["B-2"] }, false],
    ["any_of over projected list", { source: "items.sku", comparison: "any_of", value: ["B-2"] }, true],
    ["indexed and quoted path", { source: "steps[0]['Contracts'][0].id", comparison: "equals", value: "c1" }, true],
    ["falls back to the entity", { source: "billing_contact.email", comparison: "equals", value: "bill@x.com" }, true],
    ["not_empty", { source: "operation", comparison: "not_empty" }, true],
    ["exists is not_empty", { source: "billing_contact.email", comparison: "exists" }, true],
    ["not_empty on empty text", { source: "blank", comparison: "not_empty" }, false],
    ["is_empty on empty list", { source: "empty_list", comparison: "is_empty" }, true],
    ["is_empty on missing", { source: "nope.deeper", comparison: "is_empty" }, true],
    ["equals on missing", { source: "nope", comparison: "equals", value: "x" }, false],
  ])("%s", (_l, cond, passed) => {
    const r = evaluateTriggerCondition(cond, event);
    expect(r.passed).toBe(passed);
    expect(r).toMatchObject({ field: cond.source, operator: cond.comparison });
  });

  it("explains and combines with AND", () => {
    const r = evaluateTriggerConditions(
      [
        { source: "operation", comparison: "equals", value: "updateEntity" },
        { source: "nope", comparison: "is_empty" },
        { source: "amount", comparison: "equals", value: 6 },
      ],
      event,
    );
    expect(r.passed).toBe(false);
    expect(r.statements).toEqual([
      { field: "operation", operator: "equals", value: "updateEntity", actual_value: "updateEntity", passed: true },
      { field: "nope", operator: "is_empty", value: null, actual_value: null, passed: true },
      { field: "amount", operator: "equals", value: 6, actual_value: 5, passed: false },
    ]);
    expect(evaluateTriggerConditions([], event).passed).toBe(true);
  });

  it("reports bad paths and missing values instead of throwing", () => {
    expect(evaluateTriggerCondition({ source: "a[", comparison: "is_empty" }, event)).toMatchObject({
      passed: false,
      error: expect.stringMatching(/Invalid path/),
    });
    expect(evaluateTriggerCondition({ source: "operation", comparison: "equals" }, event)).toMatchObject({
      passed: false,
      error: expect.stringMatching(/needs a value/),
    });
    expect(evaluateTriggerCondition({ source: "x", comparison: "is_empty" }, null).passed).toBe(true);
    const stored = { source: "operation", comparison: "like", value: "x" } as unknown as TriggerCondition;
    expect(evaluateTriggerCondition(stored, event)).toMatchObject({ passed: false, error: 'unknown comparison "like"' });
  });
});
