// The layers of src/ and who may import whom: the one table the lint (eslint.config.js, rule
// `layers/direction`), the import-graph check (scripts/import-graph.mjs) and docs/architecture.md ("Layers",
// checked by test/node/layer-lint.test.ts) all read.
//
// A layer is a top-level directory of src/ (or one of its top-level files: app.ts, index.ts, env.ts). A file
// may import its own layer and the entries of its `may` list; an entry is a layer ("services") or one module
// or directory of it ("api/router"). Everything else is an arrow against the direction.
import { posix } from "node:path";

/** Top to bottom: api|dialects|queues|mcp → llm → services → store → engine → schemas → lib; objects → actions → llm|services. */
export const LAYERS = {
  app: { may: "*", why: "the Worker's HTTP app: mounts every router" },
  index: { may: "*", why: "the Worker's entry: exports the Durable Object classes, runs queues and cron" },
  api: {
    may: ["mcp", "llm", "services", "store", "providers", "schemas", "engine", "contracts", "env", "lib"],
    why: "HTTP in and out; the MCP route hands over to mcp/",
  },
  dialects: {
    may: ["api/router", "api/context", "llm", "services", "schemas", "engine", "contracts", "env", "lib"],
    why: "the other seed APIs, over the same services as api/: reads and writes go through services/",
  },
  queues: {
    may: ["llm", "services", "store", "schemas", "engine", "contracts", "env", "lib"],
    why: "queue consumers, an adapter like api/",
  },
  mcp: {
    may: ["llm", "services", "store", "schemas", "engine", "contracts", "env", "lib"],
    why: "the MCP protocol adapter, like api/: it calls the same use cases",
  },
  objects: {
    may: ["actions", "llm", "services", "store", "providers", "schemas", "engine", "contracts", "env", "lib"],
    why: "the Durable Objects run actions; only src/index.ts exports them",
  },
  actions: {
    may: ["llm", "services", "store", "providers", "schemas", "engine", "contracts", "env", "lib"],
    why: "one module per action type, run by objects/",
  },
  llm: {
    may: ["services", "store", "providers", "schemas", "engine", "contracts", "env", "lib"],
    why: "model calls and the agent loop sit above services/: they run tools through them",
  },
  services: {
    may: ["store", "providers", "schemas", "engine", "contracts", "env", "lib"],
    why: "the use cases sit below llm/, actions/ and objects/: move what both need down, or the use case up",
  },
  providers: {
    may: ["schemas", "engine", "lib"],
    why: "vendor descriptors and their outbound requester, used by api/, services/, llm/ and actions/: no bindings, no D1",
  },
  store: {
    may: ["schemas", "engine", "env", "lib"],
    why: "D1 access sits below services/: pass what it needs in",
  },
  contracts: {
    may: ["schemas", "engine", "lib"],
    why: "types of the Durable Objects' RPC, shared by objects/, services/ and env.ts",
  },
  env: {
    may: ["contracts", "lib"],
    why: "the bindings' types: it names the objects through contracts/, never their classes",
  },
  schemas: {
    // The engine modules schemas/ use in refinements and enums (template syntax, paths, filter configs,
    // statuses, side-effect kinds): the engine owns them, and none of them imports schemas/ back (scripts/import-graph.mjs).
    may: [
      "engine/templates",
      "engine/conditions",
      "engine/execution/types",
      "engine/bulk-job",
      "engine/reruns/side-effects",
      "lib",
    ],
    why: "zod schemas sit below services/ and store/, and take from engine/ only its validators and enums",
  },
  engine: {
    may: ["schemas", "lib"],
    why: "engine/ is pure: no bindings, no store, no I/O; the caller passes data and effects in",
  },
  lib: { may: [], why: "small shared helpers at the bottom: take what they need as parameters" },
  types: { may: [], why: "ambient declarations only" },
};

/**
 * Imports that break the direction today and that other changes of issue 23 remove: the lint and the
 * import-graph check let them pass, and test/node/import-graph.test.ts fails once one is gone, so that its
 * entry is deleted with it. `[from, to, the change that removes it]`.
 */
export const PENDING_EDGES = [];

const ENTRY_ONLY =
  "only src/app.ts and src/index.ts mount the HTTP layers (api/, dialects/): move shared code to services/ or lib/";
const DIALECT_API = "a dialect uses api/router and api/context only: call services/ for the rest";

/** `src/store/flows.ts` → `store/flows`; null outside src/. */
function modulePath(path) {
  const p = posix.normalize(path.split("\\").join("/"));
  if (!p.startsWith("src/")) return null;
  return p
    .slice(4)
    .replace(/(\.d)?\.ts$/, "")
    .replace(/\/index$/, "");
}

/** The layer of a path under src/ (its first directory, or app/index/env for those files), or null. */
export function layerOf(path) {
  const m = modulePath(path);
  return m === null ? null : m.split("/")[0];
}

const label = (layer) => (layer in LAYERS && ["app", "index", "env"].includes(layer) ? `src/${layer}.ts` : `${layer}/`);
const grants = (entry, mod) => mod === entry || mod.startsWith(`${entry}/`);

/**
 * Why `from` may not import `to` (repository paths, `to` with or without its extension), or null when it may.
 * Paths outside src/, and the `pending` edges (PENDING_EDGES unless told), always may.
 */
export function importVerdict(from, to, { pending = PENDING_EDGES } = {}) {
  const source = layerOf(from);
  const mod = modulePath(to);
  if (source === null || mod === null) return null;
  const target = mod.split("/")[0];
  if (source === target) return null;
  if (pending.some(([f, t]) => modulePath(f) === modulePath(from) && modulePath(t) === mod)) return null;
  const rule = LAYERS[source];
  if (!rule) return `${label(source)} is not a layer of scripts/layers.mjs: add it to the table`;
  if (rule.may === "*" || rule.may.some((entry) => grants(entry, mod))) return null;
  if (source === "dialects" && target === "api") return DIALECT_API;
  if (target === "api" || target === "dialects") return ENTRY_ONLY;
  if (source === "engine") return rule.why;
  const allowed = rule.may.length > 0 ? rule.may.map((e) => (e in LAYERS ? label(e) : e)).join(", ") : "nothing outside itself";
  const named = rule.may.some((e) => e.startsWith(`${target}/`)) ? mod : label(target);
  return `${label(source)} may import ${allowed}, not ${named}: ${rule.why} (docs/architecture.md, "Layers")`;
}

/**
 * ESLint rule `layers/direction`: every relative import, export-from, `import()` and `import("x")` type of a
 * file under src/ is checked with importVerdict.
 */
export const directionRule = {
  meta: { type: "problem", schema: [], docs: { description: "imports follow the layer table of scripts/layers.mjs" } },
  create(context) {
    const from = posix.relative(context.cwd.split("\\").join("/"), context.filename.split("\\").join("/"));
    if (layerOf(from) === null) return {};
    const check = (node) => {
      if (!node || typeof node.value !== "string" || !node.value.startsWith(".")) return;
      const message = importVerdict(from, posix.join(posix.dirname(from), node.value));
      if (message) context.report({ node, message });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      // typescript-eslint 8 names the specifier `source` (`argument.literal` before).
      TSImportType: (n) => check(n.source ?? n.argument?.literal),
    };
  },
};

const code = (entry) => `\`${entry in LAYERS ? label(entry) : entry}\``;

/** The rows of the "Layers" table of docs/architecture.md: `[layer, may import, why]`, top layer first. */
export function layerRows() {
  return Object.entries(LAYERS).map(([layer, { may, why }]) => [
    code(layer),
    may === "*" ? "everything" : may.length === 0 ? "nothing outside itself" : may.map(code).join(", "),
    why,
  ]);
}

/** The table as markdown (unpadded: prettier aligns it). */
export const layersTable = () =>
  [
    "| layer | may import (besides itself) | why |",
    "| --- | --- | --- |",
    ...layerRows().map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

/** The rows of the first table under `## Layers` in `markdown`, cells trimmed and inner spaces collapsed. */
export function documentedRows(markdown) {
  const section = markdown.split(/^## Layers$/m)[1]?.split(/^## /m)[0] ?? "";
  const lines = section.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  if (start < 0) return [];
  const table = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    table.push(
      line
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim().replace(/\s+/g, " ")),
    );
  }
  return table;
}

if (process.argv[1] && posix.normalize(process.argv[1].split("\\").join("/")).endsWith("scripts/layers.mjs")) {
  console.log(layersTable());
}
