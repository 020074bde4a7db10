import { describe, expect, it } from "vitest";
import { checkArguments, variablesJsonSchema } from "../../src/services/flow-input";
import { flowToolNames } from "../../src/services/flow-tools";
import { FlowVariablesSchema } from "../../src/schemas/flow-variables";

const vars = FlowVariablesSchema.parse({
  n: { type: "number" },
  i: { type: "integer", required: true },
  flag: { type: "boolean", default: false },
  tags: { type: "array", description: "Labels" },
  data: { type: "object" },
  level: { type: "integer", enum: [1, 2, 3] },
  name: {}, // type defaults to string
});

describe("flow tool input", () => {
  it("maps every declared type to JSON Schema, with required, defaults, enums and no other properties", () => {
    expect(variablesJsonSchema(vars)).toEqual({
      type: "object",
      properties: {
        n: { type: "number" },
        i: { type: "integer" },
        flag: { type: "boolean", default: false },
        tags: { type: "array", description: "Labels" },
        data: { type: "object" },
        level: { type: "integer", enum: [1, 2, 3] },
        name: { type: "string" },
      },
      required: ["i"],
      additionalProperties: false,
    });
  });

  it("accepts values of the declared types and fills defaults", () => {
    const args = { n: 1.5, i: 3, tags: ["a"], data: { k: 1 }, level: 2, name: "x" };
    expect(checkArguments(vars, args)).toEqual({ ok: true, variables: { ...args, flag: false } });
    expect(checkArguments(vars, { i: 0 })).toEqual({ ok: true, variables: { i: 0, flag: false } });
  });

  it("names every argument of the wrong type, outside its enum, unknown or missing", () => {
    const res = checkArguments(vars, { n: "1", i: 1.5, flag: "yes", tags: {}, data: [], level: 4, name: null, other: 1 });
    expect(res.ok).toBe(false);
    const issues = res.ok ? [] : res.issues;
    expect(Object.fromEntries(issues.map((x) => [x.path, x.message]))).toEqual({
      other: "is not a variable of this flow",
      n: "must be of type number, got string",
      i: "must be of type integer, got number",
      flag: "must be of type boolean, got string",
      tags: "must be of type array, got object",
      data: "must be of type object, got array",
      level: "must be one of 1, 2, 3",
      name: "must be of type string, got null",
    });
    expect(checkArguments(vars, {})).toEqual({ ok: false, issues: [{ path: "i", message: "is required" }] });
  });

  it("refuses declarations whose default or enum contradict the type, bad names, and too many variables", () => {
    expect(FlowVariablesSchema.safeParse({ a: { type: "integer", default: 1.5 } }).success).toBe(false);
    expect(FlowVariablesSchema.safeParse({ a: { type: "string", enum: ["x", 1] } }).success).toBe(false);
    expect(FlowVariablesSchema.safeParse({ a: { type: "string", enum: ["x"], default: "y" } }).success).toBe(false);
    expect(FlowVariablesSchema.safeParse({ "a-b": { type: "string" } }).success).toBe(false);
    expect(FlowVariablesSchema.safeParse({ a: { type: "date" } }).success).toBe(false);
    expect(FlowVariablesSchema.safeParse({ a: { type: "string", secret: true } }).success).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, k) => [`v${k}`, {}]));
    expect(FlowVariablesSchema.safeParse(many).success).toBe(false);
  });
});

describe("flow tool names", () => {
  it("are flow_<slug>_<8 hex of the id>, the whole id when two flows share the 8", () => {
    const names = flowToolNames([
      { id: "0123abcd-0000-4000-8000-000000000001", flow_name: "Ünïcode & Spaces — Report!!" },
      { id: "feedbeef-0000-4000-8000-000000000001", flow_name: "x".repeat(80) },
      { id: "0123abcd-0000-4000-8000-000000000002", flow_name: "***" },
    ]);
    expect(names).toEqual([
      "flow_unicode_spaces_report_0123abcd000040008000000000000001",
      `flow_${"x".repeat(40)}_feedbeef`,
      "flow_flow_0123abcd000040008000000000000002",
    ]);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_.-]{1,128}$/); // MCP's tool name alphabet and length
  });
});
