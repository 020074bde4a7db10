#!/usr/bin/env node
// The limits table of docs/limits.md, generated from src/lib/limits.ts (each constant with its doc comment), so
// the documentation cannot drift from the code:
//   node scripts/limits-table.mjs           prints the table
//   node scripts/limits-table.mjs --write   replaces the table in docs/limits.md (then `npx prettier --write docs/limits.md`)
//   node scripts/limits-table.mjs --check   exits 1, naming the rows, when the table in docs/limits.md differs
import { readFileSync, writeFileSync } from "node:fs";

const LIMITS_FILE = new URL("../src/lib/limits.ts", import.meta.url);
const LIMITS_DOC = new URL("../docs/limits.md", import.meta.url);

/**
 * `{ name, value, doc }` of every entry of LIMITS, in file order. A doc comment applies to the entries right
 * below it (`MIN_X` and `MAX_X` may share one); a blank or other line ends it.
 */
export function limitRows(src = readFileSync(LIMITS_FILE, "utf8")) {
  const rows = [];
  let comment = [];
  let open = false;
  for (const line of src.split("\n")) {
    const entry = /^\s*([A-Z][A-Z0-9_]+):\s*(.+?),\s*$/.exec(line);
    const start = /^\s*\/\*\*\s*(.*?)\s*(\*\/)?\s*$/.exec(line);
    const more = open ? /^\s*\*(?!\/)\s?(.*?)\s*(\*\/)?\s*$/.exec(line) : null;
    if (entry) {
      rows.push({ name: entry[1], value: entry[2], doc: comment.join(" ").trim() });
    } else if (start) {
      comment = start[1] ? [start[1]] : [];
      open = !start[2];
    } else if (more) {
      if (more[1]) comment.push(more[1]);
      open = !more[2];
    } else if (open && /^\s*\*\/\s*$/.test(line)) {
      open = false;
    } else {
      comment = [];
      open = false;
    }
  }
  return rows;
}

const show = (v) => v.replace(/_/g, "").replace(/\s+/g, " ");

/** The table as markdown lines (unpadded; prettier pads the columns in docs/limits.md). */
export function limitsTable(rows = limitRows()) {
  return [
    "| Limit | Value | Meaning |",
    "|---|---|---|",
    ...rows.map((r) => `| \`${r.name}\` | \`${show(r.value)}\` | ${r.doc.replace(/\|/g, "\\|")} |`),
  ];
}

/** Where the table is in the page: the block of `|` lines starting at the `| Limit` header. */
function tableSpan(lines) {
  const start = lines.findIndex((l) => /^\|\s*Limit\s*\|\s*Value\s*\|/.test(l));
  if (start < 0) throw new Error("docs/limits.md has no limits table (a line starting with `| Limit | Value |`)");
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

/** Rows of the generated table missing from the page's table, and the page's rows no longer generated. */
export function tableDrift(page = readFileSync(LIMITS_DOC, "utf8"), rows = limitRows()) {
  const lines = page.split("\n");
  const { start, end } = tableSpan(lines);
  const have = new Set(lines.slice(start, end).map(normalize));
  const want = limitsTable(rows).map(normalize);
  const wanted = new Set(want);
  return [
    ...want.filter((l) => !have.has(l)).map((l) => `missing or changed: ${l}`),
    ...[...have].filter((l) => !wanted.has(l)).map((l) => `not in limits.ts: ${l}`),
  ];
}

function main(args) {
  if (args.includes("--write")) {
    const lines = readFileSync(LIMITS_DOC, "utf8").split("\n");
    const { start, end } = tableSpan(lines);
    lines.splice(start, end - start, ...limitsTable());
    writeFileSync(LIMITS_DOC, lines.join("\n"));
    console.log("docs/limits.md: limits table written; run `npx prettier --write docs/limits.md`");
  } else if (args.includes("--check")) {
    const drift = tableDrift();
    for (const d of drift) console.error(d);
    if (drift.length > 0) {
      console.error("The limits table of docs/limits.md is out of date: node scripts/limits-table.mjs --write");
      process.exitCode = 1;
    }
  } else {
    console.log(limitsTable().join("\n"));
  }
}

if (import.meta.url === new URL(process.argv[1] ?? "", "file://").href) main(process.argv.slice(2));
