#!/usr/bin/env node
// The import graph of src/, read with the TypeScript compiler, and the two properties the layering promises
// (docs/architecture.md, "Layers"):
//   - no import circle: no group of files that import each other round, counting runtime imports (what the
//     bundle loads) and, separately, every import including `import type`;
//   - no back-pointing arrow: no import against the direction of scripts/layers.mjs (the table the lint uses).
//   node scripts/import-graph.mjs           prints both and exits 1 when there is a circle or an arrow
//   node scripts/import-graph.mjs --json    the same as JSON
//   node scripts/import-graph.mjs --no-pending   counts PENDING_EDGES (scripts/layers.mjs) like any other import
//   node scripts/import-graph.mjs --root DIR     measures another checkout (e.g. a `git worktree` of an older commit)
// A runtime import is one still there once esbuild has compiled the file, as wrangler does: an import used
// only as a type is dropped, `import type` always.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import ts from "typescript";
import { importVerdict, layerOf, PENDING_EDGES } from "./layers.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Every .ts file under `dir`, as paths relative to the repository root with forward slashes. */
function sourceFiles(root, dir = "src") {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? sourceFiles(root, `${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : [],
    )
    .sort();
}

/** The module specifiers of `text`: import and export declarations, `import()` calls and `import("x")` types. */
function specifiers(fileName, text) {
  const found = [];
  const visit = (node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS));
  return found;
}

/** The specifiers still imported once esbuild (wrangler's compiler) has compiled `text`: types are gone. */
function runtimeSpecifiers(fileName, text) {
  const { code } = transformSync(text, { loader: "ts", format: "esm", target: "es2022", sourcefile: fileName });
  return specifiers(fileName.replace(/\.ts$/, ".js"), code);
}

/** The repository path `spec` names from `file`, or null for a package or a missing file. */
function resolveSpecifier(root, file, spec) {
  if (!spec.startsWith(".")) return null;
  const base = relative(root, resolve(root, dirname(file), spec))
    .split("\\")
    .join("/");
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, `${base}/index.ts`]) {
    if (candidate.endsWith(".ts") && existsSync(join(root, candidate))) return candidate;
  }
  return null;
}

/**
 * The import graph of src/ under `root`: each file with the files it imports, every import (`all`) and the
 * runtime ones (`runtime`).
 */
export function importGraph(root = ROOT) {
  const files = sourceFiles(root);
  const all = new Map();
  const runtime = new Map();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const targets = (specs) => [...new Set(specs.map((s) => resolveSpecifier(root, file, s)).filter((t) => t !== null))].sort();
    all.set(file, targets(specifiers(file, text)));
    runtime.set(file, file.endsWith(".d.ts") ? [] : targets(runtimeSpecifiers(file, text)));
  }
  return { files, all, runtime };
}

/** The strongly connected groups of `graph` with more than one file (or a file importing itself), Tarjan's way. */
function circleGroups(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const groups = [];
  let next = 0;
  const connect = (v) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return groups.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
}

/** One shortest round trip inside `group`, starting and ending at the same file, for the report. */
function shortestCircle(graph, group) {
  const members = new Set(group);
  let best = null;
  for (const start of group) {
    const previous = new Map([[start, null]]);
    const queue = [start];
    search: while (queue.length > 0) {
      const v = queue.shift();
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [start];
          for (let u = v; u !== start; u = previous.get(u)) path.splice(1, 0, u);
          if (!best || path.length < best.length - 1) best = [...path, start];
          break search;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
  }
  return best;
}

/** `graph` without the edges of `edges` (pairs of repository paths). */
function without(graph, edges) {
  const drop = new Set(edges.map(([from, to]) => `${from} ${to}`));
  return new Map([...graph].map(([from, targets]) => [from, targets.filter((to) => !drop.has(`${from} ${to}`))]));
}

/**
 * What the layering promises, measured on the tree at `root`:
 * - `circles.runtime` / `circles.all`: each import circle (its files and one shortest round trip), counting
 *   runtime imports, and every import. The `pending` edges (by default PENDING_EDGES of scripts/layers.mjs)
 *   are left out of both: each is a known edge another change removes; `pending` lists those still present.
 * - `arrows`: each import against the layer table, as `{ from, to, message }` (file paths).
 */
export function layerReport(root = ROOT, { pending = PENDING_EDGES } = {}) {
  const { files, all, runtime } = importGraph(root);
  const present = pending.filter(([from, to]) => (all.get(from) ?? []).includes(to));
  const circles = (graph) => {
    const g = without(graph, pending);
    return circleGroups(g).map((group) => ({ files: group, example: shortestCircle(g, group) }));
  };
  const arrows = [];
  for (const [from, targets] of all) {
    for (const to of targets) {
      const message = importVerdict(from, to, { pending });
      if (message) arrows.push({ from, to, message });
    }
  }
  return { files: files.length, circles: { runtime: circles(runtime), all: circles(all) }, arrows, pending: present };
}

function print(report) {
  const lines = [`${report.files} files under src/`];
  for (const kind of ["runtime", "all"]) {
    const groups = report.circles[kind];
    const label = kind === "runtime" ? "runtime imports" : "all imports (type imports included)";
    lines.push(`import circles counting ${label}: ${groups.length}`);
    for (const group of groups) {
      lines.push(`  ${group.files.length} files: ${group.example.join(" -> ")}`);
      if (group.example.length - 1 < group.files.length) lines.push(`    all of them: ${group.files.join(", ")}`);
    }
  }
  const pairs = [...new Set(report.arrows.map((a) => `${layerOf(a.from)} -> ${layerOf(a.to)}`))].sort();
  lines.push(`back-pointing arrows: ${pairs.length} layer pairs, ${report.arrows.length} imports`);
  for (const pair of pairs) {
    lines.push(`  ${pair}`);
    for (const a of report.arrows.filter((x) => `${layerOf(x.from)} -> ${layerOf(x.to)}` === pair)) {
      lines.push(`    ${a.from} -> ${a.to}`);
    }
  }
  if (report.pending.length > 0)
    lines.push(`pending, let pass until the change named removes them (scripts/layers.mjs): ${report.pending.length}`);
  for (const [from, to, change] of report.pending) lines.push(`  ${from} -> ${to} (${change})`);
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rootArg = process.argv.indexOf("--root");
  const options = process.argv.includes("--no-pending") ? { pending: [] } : {};
  const report = layerReport(rootArg > 0 ? resolve(process.argv[rootArg + 1]) : ROOT, options);
  console.log(process.argv.includes("--json") ? JSON.stringify(report, null, 2) : print(report));
  const failed = report.circles.runtime.length + report.circles.all.length + report.arrows.length > 0;
  process.exitCode = failed ? 1 : 0;
}
