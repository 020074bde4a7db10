#!/usr/bin/env node
// docs/security.md's table of every operation and the scope it needs, generated from the route metadata that the
// Worker's pipeline enforces (the OpenAPI document: x-required-scope, x-superuser-only, security: [],
// x-scope-when, x-rate-limit), so the documentation cannot drift from the code:
//   node scripts/scope-table.mjs [--from <url|file>]           prints the table
//   node scripts/scope-table.mjs --write [--from <url|file>]   replaces the table in docs/security.md
//   node scripts/scope-table.mjs --check [--from <url|file>]   exits 1, naming the rows, when the table differs
// --from defaults to http://127.0.0.1:8787/openapi.json (`npm run dev -- --port 8787`). The pure functions below are
// what test/security/scope-table.test.ts runs against the Worker's own document.

const HTTP_METHODS = ["get", "put", "post", "delete", "patch"];
export const HEADER = "| Operation | Method and path | Scope | Counts as a trigger |";

/** `{ id, method, path, scope, trigger }` of every operation, ordered by path then method. */
export function scopeRows(doc) {
  const rows = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      let scope = isPublic ? "public (`security: []`)" : `\`${op["x-required-scope"] ?? "?"}\``;
      if (op["x-superuser-only"]) scope += ", superuser key only";
      for (const w of op["x-scope-when"] ?? []) {
        const when = w.query ? `\`${w.query}\`` : `\`${w.body}\` in the body`;
        scope += `; \`${w.scope}\` with ${when}`;
      }
      rows.push({
        id: op.operationId ?? `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        scope,
        trigger: op["x-rate-limit"] === "trigger",
      });
    }
  }
  return rows.sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path.localeCompare(b.path)));
}

/** The table as markdown lines (unpadded; prettier pads the columns in docs/security.md). */
export function scopeTable(rows) {
  return [
    HEADER,
    "|---|---|---|---|",
    ...rows.map((r) => `| \`${r.id}\` | \`${r.method} ${r.path}\` | ${r.scope} | ${r.trigger ? "yes" : ""} |`),
  ];
}

function tableSpan(lines) {
  const start = lines.findIndex((l) => l.replace(/\s+/g, " ").startsWith("| Operation | Method and path | Scope |"));
  if (start < 0)
    throw new Error("docs/security.md has no scope table (a line starting with `| Operation | Method and path | Scope |`)");
  let end = start;
  while (end < lines.length && lines[end].startsWith("|")) end++;
  return { start, end };
}

/** A table line without the column padding and separator widths prettier adds. */
const normalize = (line) =>
  line
    .replace(/-{3,}/g, "---")
    .replace(/\s+/g, " ")
    .replace(/ ?\| ?/g, "|")
    .trim();

/** Rows of the generated table missing from the markdown's table, and rows no longer generated. */
export function scopeDrift(markdown, rows) {
  const lines = markdown.split("\n");
  const { start, end } = tableSpan(lines);
  const have = lines.slice(start, end).map(normalize);
  const want = scopeTable(rows).map(normalize);
  const haveSet = new Set(have);
  const wantSet = new Set(want);
  return [
    ...want.filter((l) => !haveSet.has(l)).map((l) => `missing or changed: ${l}`),
    ...have.filter((l) => !wantSet.has(l)).map((l) => `no longer an operation: ${l}`),
  ];
}

/** The markdown with its table replaced by the generated one. */
export function withTable(markdown, rows) {
  const lines = markdown.split("\n");
  const { start, end } = tableSpan(lines);
  return [...lines.slice(0, start), ...scopeTable(rows), ...lines.slice(end)].join("\n");
}

async function main(argv) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const at = argv.indexOf("--from");
  const from = at >= 0 ? argv[at + 1] : "http://127.0.0.1:8787/openapi.json";
  const doc = /^https?:/.test(from) ? await (await fetch(from)).json() : JSON.parse(readFileSync(from, "utf8"));
  const rows = scopeRows(doc);
  const file = new URL("../docs/security.md", import.meta.url);
  const markdown = readFileSync(file, "utf8");
  if (argv.includes("--write")) {
    writeFileSync(file, withTable(markdown, rows));
    console.log(`docs/security.md: ${rows.length} operations (run npx prettier --write docs/security.md)`);
  } else if (argv.includes("--check")) {
    const drift = scopeDrift(markdown, rows);
    if (drift.length > 0) {
      console.error(drift.join("\n"));
      process.exit(1);
    }
  } else {
    console.log(scopeTable(rows).join("\n"));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
