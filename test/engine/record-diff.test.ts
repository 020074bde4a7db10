import { describe, expect, it } from "vitest";
import { deepEqual, diffRecords, isEmptyDiff } from "../../src/engine/record-diff";

describe("diffRecords", () => {
  it("reports added, updated and deleted attributes with the previous values", () => {
    const d = diffRecords({ a: 1, b: "x", c: true, keep: 0 }, { a: 2, c: true, d: null, keep: 0 });
    expect(d).toEqual({ added: { d: null }, updated: { a: 2 }, deleted: { b: "x" }, previous: { a: 1, b: "x" } });
  });

  it("treats a create (no before) as everything added and a delete (no after) as everything deleted", () => {
    expect(diffRecords(null, { a: 1, b: [1] })).toEqual({ added: { a: 1, b: [1] }, updated: {}, deleted: {}, previous: {} });
    expect(diffRecords({ a: 1 }, undefined)).toEqual({ added: {}, updated: {}, deleted: { a: 1 }, previous: { a: 1 } });
    expect(diffRecords(null, null)).toEqual({ added: {}, updated: {}, deleted: {}, previous: {} });
  });

  it("compares arrays and objects deeply: key order does not matter, array order does", () => {
    const before = { obj: { x: 1, y: { z: [1, 2] } }, arr: [1, 2], tags: ["a", "b"] };
    expect(isEmptyDiff(diffRecords(before, { arr: [1, 2], obj: { y: { z: [1, 2] }, x: 1 }, tags: ["a", "b"] }))).toBe(true);
    const d = diffRecords(before, { obj: { x: 1, y: { z: [2, 1] } }, arr: [1, 2, 3], tags: ["b", "a"] });
    expect(Object.keys(d.updated).sort()).toEqual(["arr", "obj", "tags"]);
    expect(d.previous.obj).toEqual({ x: 1, y: { z: [1, 2] } });
  });

  it("distinguishes types: 1 vs '1', null vs absent, [] vs {}", () => {
    const d = diffRecords({ a: 1, b: null, c: [], e: 0 }, { a: "1", b: null, c: {}, e: false });
    expect(d.updated).toEqual({ a: "1", c: {}, e: false });
    expect(diffRecords({ n: null }, {}).deleted).toEqual({ n: null });
    expect(diffRecords({}, { n: null }).added).toEqual({ n: null });
  });

  it("treats undefined attributes as absent, as JSON serialization would", () => {
    expect(isEmptyDiff(diffRecords({ a: 1, u: undefined }, { a: 1 }))).toBe(true);
    expect(diffRecords({ a: 1 }, { a: undefined }).deleted).toEqual({ a: 1 });
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });

  it("keeps an attribute named __proto__ as data, without touching prototypes", () => {
    const after = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const d = diffRecords({}, after);
    expect(Object.keys(d.added)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(d.added)).toBe(Object.prototype);
  });

  it("does not mutate its inputs", () => {
    const before = { a: { b: 1 } };
    const after = { a: { b: 2 } };
    diffRecords(before, after);
    expect(before).toEqual({ a: { b: 1 } });
    expect(after).toEqual({ a: { b: 2 } });
  });
});

describe("deepEqual", () => {
  it("handles primitives, nested structures and mismatched shapes", () => {
    expect(deepEqual(1, 1)).toBe(true);
    expect(deepEqual("a", "b")).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
    expect(deepEqual([1, [2, { a: 3 }]], [1, [2, { a: 3 }]])).toBe(true);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual({ a: 1, c: 2 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
  });
});
