/**
 * "Did this request change stored data?" for thousands of requests. A full snapshot of D1 per request is too
 * slow once the fuzzer has created a few hundred flows, so every request compares a cheap digest (one query:
 * per table its row count, the summed length of every column and the newest `updated_at`), and a sample of
 * requests compares full snapshots, which also catch same-length edits the digest cannot see.
 */
import { env } from "cloudflare:test";

/** Columns that legitimately change on a refused request: using an API key is recorded even when the call is refused. */
const VOLATILE = new Set(["api_keys.last_used_at"]);

interface Table {
  name: string;
  columns: string[];
}

let tables: Table[] | null = null;
let digestSql: string | null = null;

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

async function loadTables(): Promise<Table[]> {
  if (tables) return tables;
  const rows = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  const out: Table[] = [];
  for (const { name } of rows.results) {
    const cols = await env.DB.prepare(`SELECT name FROM pragma_table_info(?)`).bind(name).all<{ name: string }>();
    out.push({ name, columns: cols.results.map((c) => c.name).filter((c) => !VOLATILE.has(`${name}.${c}`)) });
  }
  tables = out;
  return out;
}

/** One row per table: count, total length of all (non-volatile) columns, newest updated_at. */
export async function dbDigest(): Promise<string> {
  if (!digestSql) {
    const parts = (await loadTables()).map((t) => {
      const len = t.columns.map((c) => `coalesce(sum(length(${q(c)})), 0)`).join(" + ") || "0";
      const updated = t.columns.includes("updated_at") ? "max(updated_at)" : "NULL";
      return `SELECT '${t.name}' AS t, count(*) AS n, ${len} AS l, ${updated} AS u FROM ${q(t.name)}`;
    });
    digestSql = parts.join(" UNION ALL ");
  }
  const rows = await env.DB.prepare(digestSql).raw();
  return JSON.stringify(rows);
}

export type Snapshot = Record<string, string[]>;

/** Every row of every table (volatile columns left out), each row as one JSON string, sorted. */
export async function dbSnapshot(): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const t of await loadTables()) {
    const cols = t.columns.map(q).join(", ");
    const rows = await env.DB.prepare(`SELECT ${cols} FROM ${q(t.name)}`).raw();
    out[t.name] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/** What differs between two snapshots, per table (rows only in one of them), for a failure message. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = new Set(before[name] ?? []);
    const b = new Set(after[name] ?? []);
    const gone = [...a].filter((r) => !b.has(r));
    const added = [...b].filter((r) => !a.has(r));
    if (gone.length || added.length)
      out.push(`${name}: -${gone.length} +${added.length} ${[...gone.map((r) => `- ${r}`), ...added.map((r) => `+ ${r}`)].join(" ").slice(0, 600)}`);
  }
  return out;
}
