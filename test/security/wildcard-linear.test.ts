/**
 * Issue 24 item 8: EventBridge `wildcard` patterns are matched without backtracking. A regular expression built
 * from `*a*a*…*b` backtracks over every way of placing the stars (on a 10 KB subject that is beyond any time budget);
 * the matcher finds the pattern's literal pieces left to right instead, so its work is bounded by the lengths of the
 * subject and the pattern. The proof is structural: the matcher counts its character comparisons.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchFilterConfig } from "../../src/engine/conditions";
import { wildcardMatch } from "../../src/engine/conditions/eventbridge";

const SUBJECT_BYTES = 10 * 1024;

/** Patterns with 20 wildcards that make a backtracking matcher try every placement of its stars. */
const HOSTILE: { name: string; pattern: string; subject: string; expected: boolean }[] = [
  {
    name: "*a × 19 then *b, subject all a",
    pattern: "*a".repeat(19) + "*b",
    subject: "a".repeat(SUBJECT_BYTES),
    expected: false,
  },
  {
    name: "a* × 19 then b*, subject all a",
    pattern: "a*".repeat(19) + "b*",
    subject: "a".repeat(SUBJECT_BYTES),
    expected: false,
  },
  {
    name: "*ab × 20, subject (ab) repeated then a",
    pattern: "*ab".repeat(20),
    subject: "ab".repeat(SUBJECT_BYTES / 2) + "a",
    expected: false,
  },
  { name: "*aa…ab × 20 (KMP worst case)", pattern: "*aaaab".repeat(20), subject: "a".repeat(SUBJECT_BYTES), expected: false },
  { name: "matches: *a × 19 then *b", pattern: "*a".repeat(19) + "*b", subject: "a".repeat(SUBJECT_BYTES) + "b", expected: true },
  {
    name: "matches: 20 pieces spread out",
    pattern: Array.from({ length: 20 }, (_, i) => `*k${i}`).join(""),
    subject: Array.from({ length: 20 }, (_, i) => "x".repeat(500) + `k${i}`).join(""),
    expected: true,
  },
];

describe("wildcard matching is linear (item 8)", () => {
  it.each(HOSTILE)("$name: at most 4 × (subject + pattern) comparisons", ({ pattern, subject, expected }) => {
    expect((pattern.match(/\*/g) ?? []).length).toBe(20);
    const meter = { steps: 0 };
    expect(wildcardMatch(pattern, subject, meter)).toBe(expected);
    expect(meter.steps).toBeGreaterThan(0);
    expect(meter.steps).toBeLessThanOrEqual(4 * (subject.length + pattern.length));
  });

  it("the work grows linearly with the subject: doubling it at most doubles the comparisons (+ the pattern)", () => {
    const pattern = "*a".repeat(19) + "*b";
    const count = (n: number) => {
      const meter = { steps: 0 };
      wildcardMatch(pattern, "a".repeat(n), meter);
      return meter.steps;
    };
    const small = count(SUBJECT_BYTES);
    const large = count(2 * SUBJECT_BYTES);
    expect(large).toBeLessThanOrEqual(2 * small + 4 * pattern.length);
  });

  it("agrees with a regular-expression reference on short inputs (escapes included)", () => {
    const reference = (pattern: string, s: string) => {
      let src = "";
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "\\" && i + 1 < pattern.length) src += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        else if (c === "*") src += "[\\s\\S]*";
        else src += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      }
      return new RegExp(`^${src}$`, "u").test(s);
    };
    const alphabet = fc.constantFrom("a", "b", "*", "\\", ".", "é");
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom("a", "b", "*", "\\", ".", "é"), maxLength: 12 }),
        (p, s) => {
          expect(wildcardMatch(p, s)).toBe(reference(p, s));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("a filter_config with a 20-wildcard pattern over a 10 KB field answers (no backtracking on the real path)", () => {
    const filter = { operation: { payload: { note: [{ wildcard: "*a".repeat(19) + "*b" }] } } };
    const miss = matchFilterConfig(filter, { operation: "updateEntity", entity: { note: "a".repeat(SUBJECT_BYTES) } });
    expect(miss.passed).toBe(false);
    const hit = matchFilterConfig(filter, { operation: "updateEntity", entity: { note: "a".repeat(SUBJECT_BYTES) + "b" } });
    expect(hit.passed).toBe(true);
    const but = { operation: { payload: { note: [{ "anything-but": { wildcard: "*a".repeat(19) + "*b" } }] } } };
    expect(matchFilterConfig(but, { operation: "updateEntity", entity: { note: "a".repeat(SUBJECT_BYTES) } }).passed).toBe(true);
  });
});
