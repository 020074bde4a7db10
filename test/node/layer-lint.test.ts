import { readdirSync, readFileSync } from "node:fs";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { LAYERS, PENDING_EDGES, documentedRows, layerOf, layerRows } from "../../scripts/layers.mjs";

/*
 * The layer rules of eslint.config.js (docs/architecture.md, "Layers"), run through ESLint's Node API on
 * in-memory snippets placed at paths inside src/: each forbidden edge must be reported, each allowed one not.
 */
// vitest runs from the repository root, ESLint's default cwd: relative file paths land in src/ there.
const eslint = new ESLint();
const LAYER_RULES = new Set([
  "layers/direction",
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

/** The relative specifier of repository path `to` from file `from`, without the extension. */
function relativeSpecifier(from: string, to: string): string {
  const up = from.split("/").length - 2;
  const rel = to.replace(/^src\//, "").replace(/\.ts$/, "");
  return up === 0 ? `./${rel}` : `${"../".repeat(up)}${rel}`;
}

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
    // The arrows issue 23 turned around, each now refused.
    ["src/services/foo.ts", "../llm/chat", /services\/ may import .*, not llm\/: the use cases sit below llm\//],
    ["src/services/foo.ts", "../actions/send-notification", /services\/ may import .*, not actions\//],
    ["src/providers/foo.ts", "../actions/http-call", /providers\/ may import schemas\/, engine\/, lib\/, not actions\//],
    ["src/schemas/foo.ts", "../store/connections", /schemas\/ may import .*, not store\//],
    ["src/lib/foo.ts", "../env", /lib\/ may import nothing outside itself, not src\/env.ts/],
    // One forbidden edge (at least) for every other layer.
    ["src/services/foo.ts", "../objects/execution-object", /services\/ may import .*, not objects\//],
    ["src/services/foo.ts", "../queues/events", /not queues\//],
    ["src/services/foo.ts", "../mcp/tools", /not mcp\//],
    ["src/llm/foo.ts", "../actions/registry", /llm\/ may import .*, not actions\//],
    ["src/llm/foo.ts", "../objects/execution-object", /llm\/ may import .*, not objects\//],
    ["src/llm/foo.ts", "../api/conversations", /only src\/app.ts and src\/index.ts/],
    ["src/providers/foo.ts", "../services/connections", /providers\/ may import .*, not services\//],
    ["src/providers/foo.ts", "../store/connections", /providers\/ may import .*, not store\//],
    ["src/providers/foo.ts", "../env", /providers\/ may import .*, not src\/env.ts/],
    ["src/actions/foo.ts", "../objects/action-runner", /actions\/ may import .*, not objects\//],
    ["src/actions/foo.ts", "../queues/bulk", /actions\/ may import .*, not queues\//],
    ["src/objects/foo.ts", "../queues/events", /objects\/ may import .*, not queues\//],
    ["src/objects/foo.ts", "../mcp/server", /objects\/ may import .*, not mcp\//],
    ["src/queues/foo.ts", "../objects/execution-object", /queues\/ may import .*, not objects\//],
    ["src/queues/foo.ts", "../actions/registry", /queues\/ may import .*, not actions\//],
    ["src/queues/foo.ts", "../mcp/server", /queues\/ may import .*, not mcp\//],
    ["src/mcp/foo.ts", "../api/router", /only src\/app.ts and src\/index.ts/],
    ["src/mcp/foo.ts", "../actions/registry", /mcp\/ may import .*, not actions\//],
    ["src/mcp/foo.ts", "../objects/execution-object", /mcp\/ may import .*, not objects\//],
    ["src/api/foo.ts", "../objects/execution-object", /api\/ may import .*, not objects\//],
    ["src/api/foo.ts", "../actions/registry", /api\/ may import .*, not actions\//],
    ["src/api/foo.ts", "../queues/events", /api\/ may import .*, not queues\//],
    ["src/dialects/plura/foo.ts", "../../store/flows", /dialects\/ may import .*, not store\/: .*through services/],
    ["src/dialects/plura/foo.ts", "../../mcp/server", /dialects\/ may import .*, not mcp\//],
    ["src/store/foo.ts", "../llm/model", /store\/ may import .*, not llm\//],
    ["src/store/foo.ts", "../providers/http", /store\/ may import .*, not providers\//],
    ["src/store/foo.ts", "../objects/execution-object", /store\/ may import .*, not objects\//],
    ["src/schemas/foo.ts", "../engine/hot-flow", /schemas\/ may import .*, not engine\/hot-flow/],
    ["src/schemas/foo.ts", "../env", /schemas\/ may import .*, not src\/env.ts/],
    ["src/engine/foo.ts", "../llm/model", /engine\/ is pure/],
    ["src/engine/foo.ts", "../contracts/execution", /engine\/ is pure/],
    ["src/lib/foo.ts", "../store/flows", /lib\/ may import nothing outside itself, not store\//],
    ["src/lib/foo.ts", "../schemas/flow", /lib\/ may import nothing outside itself, not schemas\//],
    ["src/types/foo.d.ts", "../lib/limits", /types\/ may import nothing outside itself, not lib\//],
    ["src/contracts/foo.ts", "../objects/execution-object", /contracts\/ may import schemas\/, engine\/, lib\/, not objects\//],
    ["src/contracts/foo.ts", "../services/executions", /contracts\/ may import .*, not services\//],
    ["src/contracts/foo.ts", "../store/executions", /contracts\/ may import .*, not store\//],
    ["src/contracts/foo.ts", "../env", /contracts\/ may import .*, not src\/env.ts/],
    ["src/env.ts", "./objects/agent-schedule", /src\/env.ts may import contracts\/, lib\/, not objects\//],
    ["src/env.ts", "./services/executions", /src\/env.ts may import .*, not services\//],
    ["src/widgets/foo.ts", "../lib/limits", /widgets\/ is not a layer of scripts\/layers.mjs/],
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
    ["src/app.ts", "./api/flows"],
    ["src/app.ts", "./dialects/plura/router"],
    ["src/index.ts", "./api/context"],
    ["src/index.ts", "./objects/execution-object"],
    ["src/api/foo.ts", "../mcp/transport"],
    ["src/api/foo.ts", "../llm/conversations"],
    ["src/api/foo.ts", "../providers/registry"],
    ["src/dialects/plura/foo.ts", "../../llm/generate"],
    ["src/dialects/plura/foo.ts", "../../services/flows"],
    ["src/dialects/plura/foo.ts", "../stable-json"],
    ["src/queues/foo.ts", "../services/executions"],
    ["src/queues/foo.ts", "../store/bulk-jobs"],
    ["src/mcp/foo.ts", "../llm/generate"],
    ["src/mcp/foo.ts", "../services/tools"],
    ["src/mcp/foo.ts", "../env"],
    ["src/objects/foo.ts", "../actions/registry"],
    ["src/objects/foo.ts", "../contracts/execution"],
    ["src/objects/foo.ts", "../store/execution-storage"],
    ["src/actions/foo.ts", "../llm/generate"],
    ["src/actions/foo.ts", "../services/notifications"],
    ["src/actions/foo.ts", "../providers/registry"],
    ["src/llm/foo.ts", "../services/tools"],
    ["src/llm/foo.ts", "../providers/llm-common"],
    ["src/llm/foo.ts", "../store/conversations"],
    ["src/services/foo.ts", "../providers/http"],
    ["src/services/foo.ts", "../contracts/execution"],
    ["src/services/foo.ts", "../env"],
    ["src/services/foo.ts", "./notifications"],
    ["src/providers/foo.ts", "../lib/outbound"],
    ["src/providers/foo.ts", "../schemas/integrations"],
    ["src/providers/foo.ts", "../engine/templates"],
    ["src/store/foo.ts", "../schemas/integrations"],
    ["src/store/foo.ts", "../env"],
    ["src/schemas/foo.ts", "../engine/templates"],
    ["src/schemas/foo.ts", "../engine/conditions"],
    ["src/schemas/foo.ts", "../engine/execution/types"],
    ["src/schemas/foo.ts", "../engine/bulk-job"],
    ["src/schemas/actions/foo.ts", "../flow"],
    ["src/engine/foo.ts", "../lib/limits"],
    ["src/lib/foo.ts", "./outbound"],
    ["src/contracts/foo.ts", "../engine/execution/types"],
    ["src/contracts/foo.ts", "../schemas/flow"],
    ["src/contracts/foo.ts", "../lib/errors"],
    ["src/env.ts", "./contracts/execution"],
    ["src/env.ts", "./lib/limits"],
    // Only files under src/ are checked.
    ["test/foo.ts", "../src/api/flows"],
  ])("%s may import %s", async (file, spec) => {
    expect(await layerErrors(file, importOf(spec))).toEqual([]);
  });

  it("checks every way a module is named: export-from, import() and import() types, values and types", async () => {
    const code = [
      'import { languageModel } from "../llm/model";',
      'export { runTurn } from "../llm/chat";',
      'export * from "../llm/tools";',
      'export type T = import("../llm/providers").LlmProvider;',
      'export const load = () => import("../llm/generate");',
      "export const m = languageModel;",
      "",
    ].join("\n");
    const errors = await layerErrors("src/services/foo.ts", code);
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatch(/^layers\/direction: services\/ may import .*, not llm\//);
    expect(await layerErrors("src/api/foo.ts", code)).toEqual([]);
  });

  it("has a row for every folder and top-level file of src/", () => {
    const layers = readdirSync("src").map((name) => layerOf(`src/${name}`));
    expect(layers.filter((l) => l === null || !(l in LAYERS))).toEqual([]);
  });

  it("lets pass only pending edges that would otherwise be refused", async () => {
    for (const [from, to] of PENDING_EDGES) {
      const spec = relativeSpecifier(from, to);
      expect(await layerErrors(from, importOf(spec)), `${from} -> ${to}`).toEqual([]);
      expect(await layerErrors(from.replace(/[^/]+$/, "not-pending.ts"), importOf(spec))).toHaveLength(1);
    }
  });

  it("docs/architecture.md's Layers table is the table of scripts/layers.mjs (node scripts/layers.mjs prints it)", () => {
    expect(documentedRows(readFileSync("docs/architecture.md", "utf8"))).toEqual(layerRows());
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
