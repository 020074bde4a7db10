import { describe, expect, it } from "vitest";
import { parseQuery, QueryError, type FieldOp } from "../../src/engine/record-query";
import { LIMITS } from "../../src/lib/limits";

const attr = (...path: string[]) => ({ kind: "attribute", path });
const field = (name: string, op: FieldOp, value: string, quoted = false) => ({ type: "field", name, op, value, quoted });

function errorOf(q: string): QueryError {
  try {
    parseQuery(q);
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error(`expected ${q} to fail`);
}

describe("parseQuery", () => {
  it("gives null for an empty or blank query and `all` for *", () => {
    expect(parseQuery("")).toBeNull();
    expect(parseQuery("   \t")).toBeNull();
    expect(parseQuery("*")).toEqual({ type: "all" });
  });

  it("parses field terms with every operator", () => {
    expect(parseQuery("status:active")).toMatchObject({ ...field("status", "eq", "active"), field: attr("status"), pos: 1 });
    expect(parseQuery('name:"Jane Doe"')).toMatchObject(field("name", "eq", "Jane Doe", true));
    expect(parseQuery("age:>10")).toMatchObject(field("age", "gt", "10"));
    expect(parseQuery("age:>=10")).toMatchObject(field("age", "gte", "10"));
    expect(parseQuery("age:<10")).toMatchObject(field("age", "lt", "10"));
    expect(parseQuery("age:<=-1.5")).toMatchObject(field("age", "lte", "-1.5"));
    expect(parseQuery('name:>="M"')).toMatchObject(field("name", "gte", "M", true));
    expect(parseQuery("name:Jo*")).toMatchObject(field("name", "prefix", "Jo"));
    expect(parseQuery('name:"Jane D"*')).toMatchObject(field("name", "prefix", "Jane D", true));
    expect(parseQuery("email:*")).toMatchObject(field("email", "exists", ""));
  });

  it("resolves dotted paths and system fields, and keeps later colons in the value", () => {
    expect(parseQuery("address.city:Berlin")).toMatchObject({ field: attr("address", "city") });
    for (const f of ["_id", "_schema", "_title", "_tags", "_org", "_created_at", "_updated_at"]) {
      expect(parseQuery(`${f}:x`)).toMatchObject({ field: { kind: "system", name: f } });
    }
    expect(parseQuery("_created_at:>=2024-01-01T10:00:00Z")).toMatchObject(field("_created_at", "gte", "2024-01-01T10:00:00Z"));
  });

  it("parses bare words and phrases as full text", () => {
    expect(parseQuery("berlin")).toEqual({ type: "text", value: "berlin", pos: 1 });
    expect(parseQuery('"new york"')).toEqual({ type: "text", value: "new york", pos: 1 });
    expect(parseQuery('"say \\"hi\\""')).toMatchObject({ type: "text", value: 'say "hi"' });
    expect(parseQuery("Jo*")).toMatchObject({ type: "text", value: "Jo" });
  });

  it("honours backslash escapes: an escaped : or * is literal", () => {
    expect(parseQuery("a\\:b")).toMatchObject({ type: "text", value: "a:b" });
    expect(parseQuery("code:A\\*")).toMatchObject(field("code", "eq", "A*"));
    expect(parseQuery("code:\\>5")).toMatchObject(field("code", "eq", ">5"));
  });

  it("builds AND (explicit and implicit), OR, NOT and - with NOT > AND > OR precedence", () => {
    expect(parseQuery("a:1 AND b:2")).toMatchObject({ type: "and", children: [field("a", "eq", "1"), field("b", "eq", "2")] });
    expect(parseQuery("a:1 b:2 c:3")).toMatchObject({ type: "and", children: [{}, {}, {}] });
    expect(parseQuery("a:1 OR b:2 c:3")).toMatchObject({
      type: "or",
      children: [field("a", "eq", "1"), { type: "and", children: [field("b", "eq", "2"), field("c", "eq", "3")] }],
    });
    expect(parseQuery("NOT a:1 b:2")).toMatchObject({
      type: "and",
      children: [{ type: "not", child: field("a", "eq", "1") }, {}],
    });
    expect(parseQuery("-a:1")).toMatchObject({ type: "not", child: field("a", "eq", "1") });
    expect(parseQuery("(a:1 OR b:2) c:3")).toMatchObject({ type: "and", children: [{ type: "or" }, field("c", "eq", "3")] });
    expect(parseQuery("-(a:1)")).toMatchObject({ type: "not", child: field("a", "eq", "1") });
    // Lower-case and/or are plain words; a hyphen inside a word is not NOT.
    expect(parseQuery("rock and roll")).toMatchObject({
      type: "and",
      children: [{ type: "text" }, { type: "text" }, { type: "text" }],
    });
    expect(parseQuery("first-name:x")).toMatchObject({ field: attr("first-name") });
    expect(parseQuery("age:-5")).toMatchObject(field("age", "eq", "-5"));
  });

  it("reports syntax errors with a 1-based position", () => {
    const cases: [string, number, RegExp][] = [
      ["status:", 8, /value after 'status:'/],
      [":x", 1, /field name is missing/],
      ["a:1 AND", 8, /end of query/],
      ["OR a:1", 1, /OR needs a term/],
      ["a:1 OR OR b:1", 8, /OR needs a term/],
      ["(a:1", 1, /Missing '\)'/],
      ["a:1)", 4, /Unmatched '\)'/],
      ["()", 2, /Empty parentheses/],
      ['name:"unterminated', 6, /Unterminated/],
      ['foo"bar"', 4, /Unexpected quote/],
      ['name:"x"y', 9, /space after the quoted value/],
      ["name:J*n", 6, /only allowed at the end/],
      ["a*b", 1, /only allowed at the end/],
      ["age:>5*", 5, /prefix .* comparison/],
      ["age:>", 5, /value after/],
      ["_secret:1", 1, /Unknown system field/],
      ["a..b:1", 1, /Invalid field name/],
      ["bad$name:1", 1, /Invalid field name/],
      ["x\\", 2, /backslash/],
    ];
    for (const [q, pos, re] of cases) {
      const err = errorOf(q);
      expect({ q, pos: err.position }).toEqual({ q, pos });
      expect(err.message).toMatch(re);
      expect(err.message).toContain(`at position ${pos}`);
    }
  });

  it("bounds length, term count and nesting depth", () => {
    expect(errorOf("a".repeat(LIMITS.MAX_QUERY_LENGTH + 1)).message).toMatch(/limited to/);
    const terms = Array.from({ length: LIMITS.MAX_QUERY_TERMS + 1 }, (_, i) => `f${i}:1`).join(" ");
    expect(errorOf(terms).message).toMatch(/More than/);
    expect(parseQuery(Array.from({ length: LIMITS.MAX_QUERY_TERMS }, (_, i) => `f${i}:1`).join(" "))).toMatchObject({
      type: "and",
    });
    const deep = "(".repeat(LIMITS.MAX_QUERY_DEPTH + 1) + "a" + ")".repeat(LIMITS.MAX_QUERY_DEPTH + 1);
    expect(errorOf(deep).message).toMatch(/Nesting deeper/);
    const ok = "(".repeat(LIMITS.MAX_QUERY_DEPTH) + "a" + ")".repeat(LIMITS.MAX_QUERY_DEPTH);
    expect(parseQuery(ok)).toMatchObject({ type: "text" });
    expect(errorOf("NOT ".repeat(LIMITS.MAX_QUERY_DEPTH + 1) + "a").message).toMatch(/Nesting deeper/);
    expect(errorOf("-".repeat(LIMITS.MAX_QUERY_DEPTH + 1) + "a").message).toMatch(/Nesting deeper/);
  });

  it("refuses field names with more segments than allowed", () => {
    const path = Array.from({ length: LIMITS.MAX_FIELD_PATH_SEGMENTS + 1 }, () => "a").join(".");
    expect(errorOf(`${path}:1`).message).toMatch(/segments/);
  });
});
