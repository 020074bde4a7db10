/**
 * "Did this request change stored data?" for thousands of requests. A full snapshot of D1 per request is too
 * slow once the fuzzer has created a few hundred flows, so every request compares a cheap digest (one query:
 * per table its row count, the summed length of every column and the newest `updated_at`), and a sample of
 * requests compares full snapshots, which also catch same-length edits the digest cannot see.
 */
import { env } from "cloudflare:test";

/** Columns that legitimately change on a refused request: using an API key is recorded even when the call is refused. */
const VOLATILE = new Set(["api_keys.last_used_at"]);
/**
 * Append-only audit tables: recording a refused call there is their purpose (tool calls are audited whether
 * they succeed or not). They are left out of the digest; in full snapshots they may gain rows, never lose or
 * change one.
 */
export const AUDIT_TABLES = new Set(["tool_audit_log"]);

interface Table {
  name: string;
  columns: string[];
}

let tables: Table[] | null = null;
let digestSql: string | null = null;
let snapshotSql: string | null = null;

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

/** One statement, one column per table (scalar subqueries: D1 caps compound SELECTs). */
function perTable(ts: Table[], expr: (t: Table) => string): string {
  return `SELECT ${ts.map((t, i) => `(SELECT ${expr(t)} FROM ${q(t.name)}) AS t${i}`).join(", ")}`;
}

/** Per table: row count, total length of all (non-volatile) columns, newest updated_at. One round trip. */
export async function dbDigest(): Promise<string> {
  digestSql ??= perTable(
    (await loadTables()).filter((t) => !AUDIT_TABLES.has(t.name)),
    (t) => {
      const len = t.columns.map((c) => `coalesce(sum(length(${q(c)})), 0)`).join(" + ") || "0";
      const updated = t.columns.includes("updated_at") ? "coalesce(max(updated_at), '')" : "''";
      return `count(*) || ':' || (${len}) || ':' || ${updated}`;
    },
  );
  return JSON.stringify(await env.DB.prepare(digestSql).raw());
}

export type Snapshot = Record<string, string[]>;

/** Every row of every table (volatile columns left out), each row as one JSON string, sorted. One round trip. */
export async function dbSnapshot(): Promise<Snapshot> {
  const ts = await loadTables();
  // Blobs (ciphertexts) cannot go into JSON: they are compared as hex.
  const col = (c: string) => `CASE WHEN typeof(${q(c)}) = 'blob' THEN hex(${q(c)}) ELSE ${q(c)} END`;
  snapshotSql ??= perTable(ts, (t) => `coalesce(json_group_array(json_array(${t.columns.map(col).join(", ")})), '[]')`);
  const [row] = await env.DB.prepare(snapshotSql).raw<string>();
  const out: Snapshot = {};
  ts.forEach((t, i) => {
    out[t.name] = (JSON.parse(row[i]) as unknown[]).map((r) => JSON.stringify(r)).sort();
  });
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
    if (AUDIT_TABLES.has(name) && gone.length === 0) continue;
    if (gone.length || added.length)
      out.push(
        `${name}: -${gone.length} +${added.length} ${[...gone.map((r) => `- ${r}`), ...added.map((r) => `+ ${r}`)].join(" ").slice(0, 600)}`,
      );
  }
  return out;
}

/** Deletes an organization's rows from every table that has an org_id, so one operation's data does not slow the next. */
export async function purgeOrg(org: string): Promise<void> {
  const ts = (await loadTables()).filter((t) => t.columns.includes("org_id"));
  await env.DB.batch(ts.map((t) => env.DB.prepare(`DELETE FROM ${q(t.name)} WHERE org_id = ?`).bind(org)));
}
