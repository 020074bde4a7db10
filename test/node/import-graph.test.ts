import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importGraph, layerReport } from "../../scripts/import-graph.mjs";
import { PENDING_EDGES } from "../../scripts/layers.mjs";

/*
 * scripts/import-graph.mjs (docs/architecture.md, "Layers"): src/ has no import circle, counting runtime imports
 * or every import, and no import against the layer table; and the check finds each of those in a tree that has one.
 */

const report = layerReport();

describe("the import graph of src/", () => {
  it("has no import circle counting runtime imports", () => {
    expect(report.circles.runtime).toEqual([]);
  });

  it("has no import circle counting type imports too", () => {
    expect(report.circles.all).toEqual([]);
  });

  it("has no import against the layer table", () => {
    expect(report.arrows).toEqual([]);
  });

  it("still has every pending edge of scripts/layers.mjs (delete an entry once its change removed the import)", () => {
    expect(report.pending).toEqual(PENDING_EDGES);
  });

  it("counts the pending edges as arrows when told (--no-pending), and nothing else", () => {
    const strict = layerReport(undefined, { pending: [] });
    expect(strict.arrows.map((a) => [a.from, a.to]).sort()).toEqual(PENDING_EDGES.map(([from, to]) => [from, to]).sort());
  });
});

describe("the check (scripts/import-graph.mjs) on a tree with circles and arrows", () => {
  const root = mkdtempSync(join(tmpdir(), "import-graph-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    // A runtime circle: each uses the other's value.
    "src/services/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
    "src/services/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
    // A circle of types only: `import type` one way.
    "src/store/c.ts": 'import type { D } from "./d";\nexport const c = (d: D) => d;\n',
    "src/store/d.ts": 'import { c } from "./c";\nexport type D = string;\nexport const d = c;\n',
    // A plain import used only as a type is dropped by the compiler: a circle of types only too.
    "src/engine/e.ts": 'import { F } from "./f";\nexport const e = 1;\nexport type E = F;\n',
    "src/engine/f/index.ts": 'import { e } from "../e";\nexport interface F {\n  n: number;\n}\nexport const f = e;\n',
    // Arrows against the table, by a re-export, a dynamic import and an import type.
    "src/services/g.ts":
      'export * from "../llm/h";\nexport const load = () => import("../llm/h");\nexport type H = import("../llm/h").H;\n',
    "src/llm/h.ts": "export type H = number;\n",
    // Allowed: llm/ above services/; a package is not a file of src/.
    "src/llm/i.ts": 'import { a } from "../services/a";\nimport { z } from "zod";\nexport const i = [a, z];\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }

  it("reads every import, and the runtime ones as the compiler leaves them", () => {
    const graph = importGraph(root);
    expect(graph.all.get("src/engine/e.ts")).toEqual(["src/engine/f/index.ts"]);
    expect(graph.runtime.get("src/engine/e.ts")).toEqual([]);
    expect(graph.runtime.get("src/store/c.ts")).toEqual([]);
    expect(graph.runtime.get("src/services/g.ts")).toEqual(["src/llm/h.ts"]);
    expect(graph.all.get("src/llm/i.ts")).toEqual(["src/services/a.ts"]);
  });

  it("lists each circle with its files and a round trip", () => {
    const found = layerReport(root, { pending: [] });
    expect(found.circles.runtime).toEqual([
      {
        files: ["src/services/a.ts", "src/services/b.ts"],
        example: ["src/services/a.ts", "src/services/b.ts", "src/services/a.ts"],
      },
    ]);
    expect(found.circles.all.map((c) => c.files)).toEqual([
      ["src/engine/e.ts", "src/engine/f/index.ts"],
      ["src/services/a.ts", "src/services/b.ts"],
      ["src/store/c.ts", "src/store/d.ts"],
    ]);
  });

  it("lists each import against the layer table, once per pair of files", () => {
    const found = layerReport(root, { pending: [] });
    expect(found.arrows).toEqual([
      { from: "src/services/g.ts", to: "src/llm/h.ts", message: expect.stringMatching(/not llm\//) },
    ]);
  });

  it("leaves a pending edge out of both", () => {
    const found = layerReport(root, {
      pending: [
        ["src/services/g.ts", "src/llm/h.ts"],
        ["src/services/b.ts", "src/services/a.ts"],
      ],
    });
    expect(found.arrows).toEqual([]);
    expect(found.circles.runtime).toEqual([]);
    expect(found.pending).toHaveLength(2);
  });

  it("exits 1 from the command line and names the circle", () => {
    const run = spawnSync(process.execPath, ["scripts/import-graph.mjs", "--root", root], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("import circles counting runtime imports: 1");
    expect(run.stdout).toContain("src/services/a.ts -> src/services/b.ts -> src/services/a.ts");
    expect(run.stdout).toContain("back-pointing arrows: 1 layer pairs, 1 imports");
  });
});
