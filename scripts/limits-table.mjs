#!/usr/bin/env node
// Prints the README's limits table from src/lib/limits.ts (each constant with its doc comment), so
// the documentation cannot drift from the code: `node scripts/limits-table.mjs`.
import { readFileSync } from "node:fs";

const src = readFileSync(new URL("../src/lib/limits.ts", import.meta.url), "utf8");
const rows = [];
let comment = [];
for (const line of src.split("\n")) {
  const c = /^\s*\/\*\*\s*(.*?)\s*(\*\/)?\s*$/.exec(line) ?? /^\s*\*\s?(.*?)\s*(\*\/)?$/.exec(line);
  const m = /^\s*([A-Z][A-Z0-9_]+):\s*(.+?),\s*$/.exec(line);
  if (m) {
    rows.push({ name: m[1], value: m[2], doc: comment.join(" ").trim() });
    comment = [];
  } else if (c && !line.includes("export const")) {
    comment.push(c[1]);
  } else if (!line.trim().startsWith("*")) {
    comment = [];
  }
}
const show = (v) => v.replace(/_/g, "").replace(/\s+/g, " ");
console.log("| Limit | Value | Meaning |\n|---|---|---|");
for (const r of rows) console.log(`| \`${r.name}\` | \`${show(r.value)}\` | ${r.doc.replace(/\|/g, "\\|")} |`);
