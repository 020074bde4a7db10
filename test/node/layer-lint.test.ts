import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/*
 * The layer rules of eslint.config.js (docs/architecture.md, "Layers"), run through ESLint's Node API on
 * in-memory snippets placed at paths inside src/: each forbidden edge must be reported, each allowed one not.
 */
// vitest runs from the repository root, ESLint's default cwd: relative file paths land in src/ there.
const eslint = new ESLint();
const LAYER_RULES = new Set([
  "@typescript-eslint/no-restricted-imports",
  "@typescript-eslint/no-restricted-types",
  "no-restricted-globals",
]);

/** The layer-rule messages ESLint reports for `code` saved as `file` (relative to the repository). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result.messages.filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => `${m.ruleId}: ${m.message}`);
}

const importOf = (spec: string) => `import type { X } from "${spec}";\nexport type Y = X;\n`;

describe("layer lint rules", () => {
  it.each([
    ["src/engine/foo.ts", "../store/flows", /engine\/ is pure/],
    ["src/engine/conditions/foo.ts", "../../services/start-flow", /engine\/ is pure/],
    ["src/engine/foo.ts", "../objects/execution-object", /engine\/ is pure/],
    ["src/engine/foo.ts", "../queues/events", /engine\/ is pure/],
    ["src/engine/foo.ts", "../actions/registry", /engine\/ is pure/],
    ["src/engine/foo.ts", "../env", /engine\/ is pure/],
    ["src/engine/foo.ts", "cloudflare:workers", /engine\/ is pure/],
    ["src/engine/foo.ts", "../api/context", /only src\/app.ts and src\/index.ts/],
    ["src/engine/foo.ts", "../dialects/plura/router", /only src\/app.ts and src\/index.ts/],
    ["src/store/foo.ts", "../api/context", /only src\/app.ts and src\/index.ts/],
    ["src/store/foo.ts", "../services/flows", /below services/],
    ["src/schemas/foo.ts", "../api/router", /only src\/app.ts and src\/index.ts/],
    ["src/schemas/actions/foo.ts", "../../services/tools", /below services/],
    ["src/services/foo.ts", "../api/auth", /only src\/app.ts and src\/index.ts/],
    ["src/objects/foo.ts", "../dialects/plura/router", /only src\/app.ts and src\/index.ts/],
    ["src/queues/foo.ts", "../api/flows", /only src\/app.ts and src\/index.ts/],
    ["src/lib/foo.ts", "../api/context", /only src\/app.ts and src\/index.ts/],
    ["src/api/foo.ts", "../dialects/plura/router", /only src\/app.ts and src\/index.ts/],
    ["src/dialects/plura/foo.ts", "../../api/flows", /a dialect uses api\/router and api\/context only/],
    ["src/dialects/coherence/foo.ts", "../../store/flows", /a dialect reads and writes through services\/, never store\//],
  ])("%s may not import %s", async (file, spec, message) => {
    const errors = await layerErrors(file, importOf(spec));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ["src/engine/foo.ts", "../schemas/flow"],
    ["src/engine/conditions/foo.ts", "../../lib/limits"],
    ["src/engine/execution/foo.ts", "../conditions"],
    ["src/engine/foo.ts", "croner"],
    ["src/store/foo.ts", "../engine/hot-flow"],
    ["src/store/foo.ts", "../lib/principal"],
    ["src/schemas/foo.ts", "../lib/principal"],
    ["src/services/foo.ts", "../store/flows"],
    ["src/services/foo.ts", "../engine/trigger-match"],
    ["src/objects/foo.ts", "../services/start-flow"],
    ["src/api/foo.ts", "./router"],
    ["src/api/foo.ts", "../services/flows"],
    ["src/dialects/plura/foo.ts", "../../api/router"],
    ["src/dialects/plura/foo.ts", "../../api/context"],
    ["src/dialects/plura/foo.ts", "./schemas"],
    ["src/dialects/plura/foo.ts", "../../services/flows"],
    ["src/app.ts", "./api/flows"],
    ["src/app.ts", "./dialects/plura/router"],
    ["src/index.ts", "./api/context"],
  ])("%s may import %s", async (file, spec) => {
    expect(await layerErrors(file, importOf(spec))).toEqual([]);
  });

  it("refuses binding types and fetch in engine/, which need no import", async () => {
    const code =
      "export async function f(db: D1Database, q: Queue): Promise<unknown> {\n  await q.send(1);\n  return [db, await fetch('https://x.test')];\n}\n";
    const errors = await layerErrors("src/engine/foo.ts", code);
    expect(errors.filter((e) => e.startsWith("@typescript-eslint/no-restricted-types"))).toHaveLength(2);
    expect(errors.filter((e) => e.startsWith("no-restricted-globals"))).toHaveLength(1);
    // The same code is fine where bindings belong.
    expect(await layerErrors("src/store/foo.ts", code)).toEqual([]);
  });
});
