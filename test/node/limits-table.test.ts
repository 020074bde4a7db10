import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module script without type declarations
import { limitRows, limitsTable, tableDrift } from "../../scripts/limits-table.mjs";

type Row = { name: string; value: string; doc: string };

describe("the limits table of docs/limits.md (scripts/limits-table.mjs)", () => {
  it("docs/limits.md lists every entry of src/lib/limits.ts with its value and doc (regenerate with --write)", () => {
    expect(tableDrift()).toEqual([]);
  });

  it("reads each entry with the doc comment above it, shared by the entries right below it, ended by a blank line", () => {
    const src = [
      "export const LIMITS = {",
      "  /** Largest thing, in bytes. */",
      "  MAX_THING_BYTES: 64 * 1024,",
      "  /**",
      "   * Bounds of a timeout,",
      "   * in ms.",
      "   */",
      "  MIN_T_MS: 100,",
      "  MAX_T_MS: 30_000,",
      "",
      "  UNDOCUMENTED: 1,",
      "} as const;",
    ].join("\n");
    const rows: Row[] = limitRows(src);
    expect(rows).toEqual([
      { name: "MAX_THING_BYTES", value: "64 * 1024", doc: "Largest thing, in bytes." },
      { name: "MIN_T_MS", value: "100", doc: "Bounds of a timeout, in ms." },
      { name: "MAX_T_MS", value: "30_000", doc: "Bounds of a timeout, in ms." },
      { name: "UNDOCUMENTED", value: "1", doc: "" },
    ]);
    expect(limitsTable(rows).slice(2, 4)).toEqual([
      "| `MAX_THING_BYTES` | `64 * 1024` | Largest thing, in bytes. |",
      "| `MIN_T_MS` | `100` | Bounds of a timeout, in ms. |",
    ]);
  });

  it("reports a row that is missing, changed or no longer in limits.ts", () => {
    const rows: Row[] = [
      { name: "A", value: "1", doc: "a" },
      { name: "B", value: "2", doc: "b" },
    ];
    const page = [
      "# x",
      "",
      "| Limit | Value | Meaning |",
      "| ----- | --- | --- |",
      "| `A` | `1`   | a |",
      "| `C` | `3` | c |",
      "",
    ].join("\n");
    const drift: string[] = tableDrift(page, rows);
    expect(drift).toEqual(["missing or changed: |`B`|`2`|b|", "not in limits.ts: |`C`|`3`|c|"]);
  });
});
