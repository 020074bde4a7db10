import { describe, expect, it } from "vitest";
import {
  evaluateActionCondition,
  evaluateFlowCondition,
  evaluateStatement,
  type EvaluationContext,
} from "../../../src/engine/conditions";
import type { ConditionStatement } from "../../../src/schemas/conditions";

type Source = NonNullable<ConditionStatement["source"]>;
const MISSING = Symbol("missing");

/** One statement on attribute `x` of the trigger entity. */
function check(actual: unknown, operation: ConditionStatement["operation"], values: string[], source: Partial<Source> = {}) {
  const entity: Record<string, unknown> = { _id: "e1", _schema: "contact" };
  if (actual !== MISSING) entity.x = actual;
  return evaluateStatement({ operation, values, source: { origin: "trigger", attribute: "x", ...source } }, { entity });
}

type Row = [
  label: string,
  type: Source["attributeType"] | undefined,
  actual: unknown,
  op: ConditionStatement["operation"],
  values: string[],
  passed: boolean,
];

const rows: Row[] = [
  // text: equality is exact (case-sensitive) after trimming; search operators ignore case
  ["string equals", "string", "Hello", "equals", ["Hello"], true],
  ["string equals is case-sensitive", "string", "Hello", "equals", ["hello"], false],
  ["string equals trims whitespace", "string", "  Hello \t", "equals", ["Hello "], true],
  ["string equals with several values = any", "string", "b", "equals", ["a", "b"], true],
  ["string not_equals", "string", "a", "not_equals", ["b"], true],
  ["string not_equals same", "string", "a", "not_equals", ["a"], false],
  ["string any_of", "string", "b", "any_of", ["a", "b"], true],
  ["string any_of miss", "string", "c", "any_of", ["a", "b"], false],
  ["string none_of", "string", "c", "none_of", ["a", "b"], true],
  ["string none_of hit", "string", "a", "none_of", ["a", "b"], false],
  ["string contains ignores case", "string", "Hello World", "contains", ["WORLD"], true],
  ["string contains miss", "string", "Hello", "contains", ["xyz"], false],
  ["string not_contains", "string", "Hello", "not_contains", ["xyz"], true],
  ["string not_contains hit", "string", "Hello", "not_contains", ["ELL"], false],
  ["string starts_with", "string", "Hello", "starts_with", ["he"], true],
  ["string starts_with miss", "string", "Hello", "starts_with", ["lo"], false],
  ["string ends_with", "string", "Hello", "ends_with", ["LO"], true],
  ["string ends_with miss", "string", "Hello", "ends_with", ["he"], false],
  ["string greater_than is lexicographic", "string", "b", "greater_than", ["a"], true],
  ["string less_than", "string", "apple", "less_than", ["banana"], true],
  ["string >= equal", "string", "b", "greater_than_or_equals", ["b"], true],
  ["string <= ", "string", "c", "less_than_or_equals", ["b"], false],
  ["string is_empty on empty", "string", "", "is_empty", [], true],
  ["string is_empty on whitespace", "string", "   ", "is_empty", [], true],
  ["string is_empty on text", "string", "a", "is_empty", [], false],
  ["string is_not_empty", "string", "a", "is_not_empty", [], true],
  ["number read as text under string type", "string", 42, "equals", ["42"], true],
  ["email equality ignores case", "email", "John@Example.COM", "equals", ["john@example.com"], true],
  ["country equality ignores case", "country", "de", "any_of", ["DE", "AT"], true],
  // numbers: numeric strings are numbers, comparison is numeric not lexicographic
  ["number equals numeric string", "number", 5, "equals", ["5"], true],
  ["numeric string equals 5.0", "number", "5.0", "equals", ["5"], true],
  ["number with whitespace", "number", " 42 ", "equals", ["42"], true],
  ["number greater_than is numeric", "number", 10, "greater_than", ["9"], true],
  ["numeric string greater_than", "number", "10", "greater_than", ["9"], true],
  ["number less_than", "number", 9, "less_than", ["10"], true],
  ["number >= equal", "number", 10, "greater_than_or_equals", ["10"], true],
  ["number <= below", "number", -1.5, "less_than_or_equals", ["-1.5"], true],
  ["number > fails", "number", 3, "greater_than", ["3"], false],
  ["NaN text is not a number", "number", "NaN", "greater_than", ["1"], false],
  ["Infinity is not a number", "number", "Infinity", "greater_than", ["1"], false],
  ["empty string is not a number", "number", "", "equals", ["0"], false],
  ["non-numeric actual: equals fails", "number", "abc", "equals", ["5"], false],
  ["non-numeric actual: not_equals passes", "number", "abc", "not_equals", ["5"], true],
  ["non-numeric expected fails", "number", 5, "equals", ["five"], false],
  ["zero is not empty", "number", 0, "is_empty", [], false],
  ["price compares as number", "price", "19.99", "less_than", ["20"], true],
  ["price object uses amount", "price", { amount: 25, currency: "EUR" }, "greater_than", ["20"], true],
  ["number any_of", "number", 3, "any_of", ["1", "3.0"], true],
  ["number none_of", "number", 3, "none_of", ["1", "2"], true],
  // dates: `date` compares the UTC day, `datetime` the instant; offsets honoured, no offset = UTC
  ["date equals same UTC day", "date", "2024-01-15", "equals", ["2024-01-15T23:59:59Z"], true],
  ["date with offset lands on next UTC day", "date", "2024-01-15T23:30:00-02:00", "equals", ["2024-01-16"], true],
  ["date greater_than", "date", "2024-02-01", "greater_than", ["2024-01-31"], true],
  ["date less_than across year", "date", "2023-12-31", "less_than", ["2024-01-01"], true],
  ["impossible date is not a date", "date", "2024-02-30", "equals", ["2024-02-30"], false],
  ["datetime equal instants in two zones", "datetime", "2024-01-15T10:00:00+02:00", "equals", ["2024-01-15T08:00:00Z"], true],
  ["datetime differs by a second", "datetime", "2024-01-15T10:00:00Z", "less_than", ["2024-01-15T10:00:01Z"], true],
  ["datetime from epoch ms", "datetime", 1705312800000, "equals", ["2024-01-15T10:00:00Z"], true],
  ["datetime without offset is UTC", "datetime", "2024-01-15T10:00", "equals", ["2024-01-15T10:00:00.000Z"], true],
  ["datetime with fraction", "datetime", "2024-01-15T10:00:00.5Z", "greater_than", ["2024-01-15T10:00:00Z"], true],
  ["datetime >= same", "datetime", "2024-01-15T10:00:00Z", "greater_than_or_equals", ["2024-01-15T12:00:00+02:00"], true],
  ["text is not a datetime", "datetime", "yesterday", "less_than", ["2024-01-01"], false],
  // booleans
  ["boolean equals 'true'", "boolean", true, "equals", ["true"], true],
  ["boolean text any case", "boolean", "TRUE", "equals", ["true"], true],
  ["boolean false vs true", "boolean", false, "equals", ["true"], false],
  ["boolean 1 is true", "boolean", 1, "equals", ["true"], true],
  ["boolean 'yes' is not a boolean", "boolean", "yes", "equals", ["true"], false],
  ["boolean not_equals", "boolean", false, "not_equals", ["true"], true],
  ["booleans cannot be ordered", "boolean", true, "greater_than", ["false"], false],
  ["false is not empty", "boolean", false, "is_empty", [], false],
  // lists (repeatable attributes): equals = same set, contains = has a value, others = some item
  ["list equals as a set", "tags", ["a", "b"], "equals", ["b", "a"], true],
  ["list equals needs all", "tags", ["a", "b"], "equals", ["a"], false],
  ["list not_equals", "tags", ["a", "b"], "not_equals", ["a"], true],
  ["list contains a value", "tags", ["a", "b"], "contains", ["b"], true],
  ["list contains is membership, not substring", "tags", ["abc"], "contains", ["b"], false],
  ["list not_contains", "tags", ["a", "b"], "not_contains", ["c"], true],
  ["list any_of", "multiselect", ["a", "b"], "any_of", ["x", "b"], true],
  ["list none_of", "multiselect", ["a", "b"], "none_of", ["x"], true],
  ["list none_of hit", "multiselect", ["a", "b"], "none_of", ["b"], false],
  ["list starts_with some item", "tags", ["xa", "ab"], "starts_with", ["a"], true],
  ["list ends_with none", "tags", ["ab"], "ends_with", ["a"], false],
  ["number list greater_than some item", "number", [1, 5, 10], "greater_than", ["8"], true],
  ["empty list is_empty", "tags", [], "is_empty", [], true],
  ["list of empty items is_empty", "tags", ["", " "], "is_empty", [], true],
  ["list is_not_empty", "tags", ["a"], "is_not_empty", [], true],
  ["empty list equals nothing", "tags", [], "equals", ["a"], false],
  ["empty list contains nothing", "tags", [], "contains", ["a"], false],
  ["empty list not_contains", "tags", [], "not_contains", ["a"], true],
  ["email objects any_of ignores case", "email", [{ email: "A@x.com" }, { email: "b@y.com" }], "any_of", ["a@x.com"], true],
  ["phone objects", "phone", [{ phone: "+49 1" }], "equals", ["+49 1"], true],
  ["relation any_of entity id", "relation", { $relation: [{ entity_id: "e1" }, { entity_id: "e2" }] }, "any_of", ["e2"], true],
  ["empty relation is_empty", "relation", { $relation: [] }, "is_empty", [], true],
  ["relation_user by user_id", "relation_user", [{ user_id: "u1" }], "contains", ["u1"], true],
  // null and missing: only the negated operators and is_empty pass
  ["null equals", "string", null, "equals", ["x"], false],
  ["null not_equals", "string", null, "not_equals", ["x"], true],
  ["null contains", "string", null, "contains", ["x"], false],
  ["null not_contains", "string", null, "not_contains", ["x"], true],
  ["null greater_than", "number", null, "greater_than", ["1"], false],
  ["null is_empty", "string", null, "is_empty", [], true],
  ["null is_not_empty", "string", null, "is_not_empty", [], false],
  ["missing equals", "string", MISSING, "equals", ["x"], false],
  ["missing not_equals", "string", MISSING, "not_equals", ["x"], true],
  ["missing any_of", "string", MISSING, "any_of", ["x"], false],
  ["missing none_of", "string", MISSING, "none_of", ["x"], true],
  ["missing starts_with", "string", MISSING, "starts_with", ["x"], false],
  ["missing less_than", "date", MISSING, "less_than", ["2024-01-01"], false],
  ["missing is_empty", "string", MISSING, "is_empty", [], true],
  ["missing is_not_empty", "string", MISSING, "is_not_empty", [], false],
  // no attributeType: decided from the values
  ["auto: number vs numeric text", undefined, 5, "equals", ["5"], true],
  ["auto: numeric texts order numerically", undefined, "10", "greater_than", ["9"], true],
  ["auto: ISO dates order as instants", undefined, "2024-01-02T00:00:00+05:00", "less_than", ["2024-01-01T20:00:00Z"], true],
  ["auto: zip codes stay text for equals", undefined, "00123", "equals", ["123"], false],
  ["auto: boolean vs text", undefined, true, "equals", ["true"], true],
];

describe("ConditionStatement operators × value types", () => {
  it.each(rows)("%s", (_label, type, actual, op, values, passed) => {
    const r = check(actual, op, values, { attributeType: type });
    expect(r.passed).toBe(passed);
    expect(r.operator).toBe(op);
    expect(r.field).toBe("x");
    expect(r.value).toEqual(values);
    expect(r.actual_value).toEqual(actual === MISSING ? null : actual);
  });

  it("reports why a comparison could not be made", () => {
    expect(check("abc", "greater_than", ["5"], { attributeType: "number" }).error).toMatch(/actual value "abc" is not a number/);
    expect(check(5, "equals", ["five"], { attributeType: "number" }).error).toMatch(/expected value "five" is not a number/);
    expect(check("2024-02-30", "equals", ["2024-01-01"], { attributeType: "date" }).error).toMatch(/not an ISO-8601 date/);
    expect(check(true, "less_than", ["false"], { attributeType: "boolean" }).error).toMatch(/booleans cannot be ordered/);
    expect(check("a", "equals", [], { attributeType: "string" }).error).toMatch(/needs a value/);
  });
});

describe("repeatableItemOp: the operator must hold for every item", () => {
  const every = { attributeType: "tags" as const, repeatableItemOp: true };
  it.each<[string, unknown, ConditionStatement["operation"], string[], boolean]>([
    ["every item starts with", ["ab", "ac"], "starts_with", ["a"], true],
    ["one item does not", ["ab", "bc"], "starts_with", ["a"], false],
    ["every item is one of", ["a", "b"], "equals", ["a", "b", "c"], true],
    ["not_contains: no item contains", ["ab", "cd"], "not_contains", ["x"], true],
    ["not_contains: one item contains", ["ab", "xd"], "not_contains", ["x"], false],
    ["none_of: every item outside", ["a", "b"], "none_of", ["c"], true],
    ["an empty list fails", [], "starts_with", ["a"], false],
    ["is_empty still judges the whole list", [], "is_empty", [], true],
  ])("%s", (_l, actual, op, values, passed) => {
    expect(check(actual, op, values, every).passed).toBe(passed);
  });
});

describe("attributeOperation: added / updated / deleted", () => {
  const base: EvaluationContext = {
    entity: { status: "b", tags: ["a", "c"], phone: null },
    previous: { status: "a", tags: ["a", "b"], phone: "123" },
    diff: { updated: { status: "b", tags: ["a", "c"] }, deleted: { phone: null } },
  };
  const stmt = (
    attribute: string,
    attributeOperation: Source["attributeOperation"],
    operation: ConditionStatement["operation"],
    values: string[] = [],
  ) => evaluateStatement({ operation, values, source: { attribute, attributeOperation, attributeType: "string" } }, base);

  it("updated looks at the new value of an attribute the event updated", () => {
    const r = stmt("status", "updated", "equals", ["b"]);
    expect(r).toMatchObject({ passed: true, actual_value: "b", previous_value: "a" });
  });
  it("an attribute the event did not touch is missing for updated", () => {
    const ctx = { ...base, entity: { ...base.entity, name: "n" }, previous: { ...base.previous, name: "n" } };
    const r = evaluateStatement({ operation: "is_empty", source: { attribute: "name", attributeOperation: "updated" } }, ctx);
    expect(r).toMatchObject({ passed: true, actual_value: null });
  });
  it("added / deleted items of a repeatable attribute", () => {
    expect(stmt("tags", "added", "equals", ["c"])).toMatchObject({ passed: true, actual_value: ["c"] });
    expect(stmt("tags", "deleted", "equals", ["b"])).toMatchObject({ passed: true, actual_value: ["b"] });
    expect(stmt("tags", "all", "equals", ["a", "c"]).passed).toBe(true);
  });
  it("deleted scalar reads the previous value", () => {
    expect(stmt("phone", "deleted", "equals", ["123"])).toMatchObject({ passed: true, actual_value: "123" });
    expect(stmt("phone", "added", "is_empty").passed).toBe(true);
  });
  it("without a diff, previous is the full prior snapshot", () => {
    const ctx: EvaluationContext = { entity: { email: "x@y.z", name: "n" }, previous: { name: "n" } };
    const added = evaluateStatement(
      { operation: "is_not_empty", source: { attribute: "email", attributeOperation: "added" } },
      ctx,
    );
    expect(added.passed).toBe(true);
    const name = evaluateStatement(
      { operation: "is_not_empty", source: { attribute: "name", attributeOperation: "updated" } },
      ctx,
    );
    expect(name.passed).toBe(false);
  });
  it("without previous values or a diff nothing changed", () => {
    const r = evaluateStatement(
      { operation: "is_not_empty", source: { attribute: "x", attributeOperation: "added" } },
      { entity: { x: 1 } },
    );
    expect(r.passed).toBe(false);
  });
});

describe("sources", () => {
  const ctx: EvaluationContext = {
    entity: { _id: "e1", _schema: "contact", email: "a@b.c", address: { city: "Berlin" }, items: [{ sku: "A" }, { sku: "B" }] },
    trigger: { operation: "updateEntity", body: { amount: "12" } },
    actions: { a1: { outputs: { status: 200, body: { id: "x" } }, execution_status: "success" }, empty: { outputs: {} } },
  };
  const run = (source: Source, operation: ConditionStatement["operation"], values: string[] = []) =>
    evaluateStatement({ source, operation, values }, ctx);

  it("reads dotted and indexed attributes of the entity", () => {
    expect(run({ attribute: "address.city" }, "equals", ["Berlin"]).passed).toBe(true);
    expect(run({ attribute: "items[1].sku" }, "equals", ["B"]).passed).toBe(true);
    expect(run({ attribute: "items.sku" }, "equals", ["A", "B"]).passed).toBe(true);
  });
  it("falls back to the trigger event", () => {
    expect(run({ attribute: "operation" }, "equals", ["updateEntity"]).passed).toBe(true);
    expect(run({ attribute: "body.amount", attributeType: "number" }, "greater_than", ["10"]).passed).toBe(true);
  });
  it("reads an earlier action's outputs", () => {
    const r = run({ origin: "action", id: "a1", attribute: "status", attributeType: "number" }, "equals", ["200"]);
    expect(r).toMatchObject({ passed: true, field: "actions.a1.outputs.status", actual_value: 200 });
    expect(run({ origin: "action", id: "a1", attribute: "body.id" }, "equals", ["x"]).passed).toBe(true);
    expect(run({ origin: "action", id: "nope", attribute: "status" }, "is_empty").passed).toBe(true);
    expect(run({ origin: "action", attribute: "status" }, "is_empty").error).toMatch(/source.id/);
  });
  it("a statement for another schema sees nothing", () => {
    const r = run({ schema: "contract", attribute: "email" }, "is_not_empty");
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/"contact", not a "contract"/);
  });
  it("a malformed attribute path is a missing value, not an exception", () => {
    expect(run({ attribute: "a..b" }, "is_empty").passed).toBe(true);
  });
  it.each<[string, Source, ConditionStatement["operation"], EvaluationContext | undefined, boolean]>([
    ["trigger entity exists", { schema: "contact" }, "entity_exists", undefined, true],
    ["no entity", {}, "entity_exists", { entity: null }, false],
    ["no entity: does_not_exist", {}, "entity_does_not_exist", { entity: null }, true],
    ["other schema does not exist", { schema: "contract" }, "entity_exists", undefined, false],
    ["relation attribute with items", { attribute: "items" }, "entity_exists", undefined, true],
    ["missing relation attribute", { attribute: "contract" }, "entity_does_not_exist", undefined, true],
    ["action outputs exist", { origin: "action", id: "a1" }, "entity_exists", undefined, true],
    ["empty action outputs", { origin: "action", id: "empty" }, "entity_exists", undefined, false],
  ])("entity_exists: %s", (_l, source, operation, override, passed) => {
    expect(evaluateStatement({ source, operation }, override ?? ctx).passed).toBe(passed);
  });
});

describe("ActionCondition", () => {
  const ctx: EvaluationContext = { entity: { a: "1", b: "2" } };
  it("passes when every statement passes and explains each", () => {
    const r = evaluateActionCondition(
      {
        id: "c1",
        statements: [
          { id: "s1", operation: "equals", values: ["1"], source: { attribute: "a" } },
          { id: "s2", operation: "equals", values: ["2"], source: { attribute: "b" } },
        ],
      },
      ctx,
    );
    expect(r.passed).toBe(true);
    expect(r.statements.map((s) => [s.id, s.passed])).toEqual([
      ["s1", true],
      ["s2", true],
    ]);
  });
  it("fails when one fails, still evaluating the others", () => {
    const r = evaluateActionCondition(
      {
        statements: [
          { operation: "equals", values: ["x"], source: { attribute: "a" } },
          { operation: "equals", values: ["2"], source: { attribute: "b" } },
        ],
      },
      ctx,
    );
    expect(r.passed).toBe(false);
    expect(r.statements.map((s) => s.passed)).toEqual([false, true]);
  });
  it("an unknown operation from a stored document fails with the reason", () => {
    const stored = { operation: "matches", values: ["1"], source: { attribute: "a" } } as unknown as ConditionStatement;
    expect(evaluateActionCondition({ statements: [stored] }, ctx)).toEqual({
      passed: false,
      statements: [
        { field: "a", operator: "matches", value: ["1"], actual_value: "1", passed: false, error: 'unknown operation "matches"' },
      ],
    });
    const simple = { field: "a", operator: "matches", value: "1" } as unknown as Parameters<typeof evaluateFlowCondition>[0];
    expect(evaluateFlowCondition(simple, ctx).statements[0]).toMatchObject({
      passed: false,
      error: 'unknown operator "matches"',
    });
  });

  it("a condition without statements passes", () => {
    expect(evaluateActionCondition({ id: "c" }, ctx)).toEqual({ passed: true, statements: [] });
  });
  it("evaluateFlowCondition takes either vocabulary", () => {
    expect(evaluateFlowCondition({ field: "a", operator: "equals", value: "1" }, ctx).passed).toBe(true);
    expect(
      evaluateFlowCondition({ statements: [{ operation: "equals", values: ["3"], source: { attribute: "a" } }] }, ctx).passed,
    ).toBe(false);
  });
});
