/**
 * The index of wait_for_event waits (migrations/0041_event_waits.sql). A wait is found by (org, event name,
 * match key), where the match key is `<event_path>=<value as text>` or '' for a wait on every event of the
 * name; an event's match keys are computed, in SQL, for the paths some wait correlates on
 * (`event_wait_paths`) and kept in `event_history` for later waits' lookback. The engine checks every
 * candidate again (engine/event-waits.ts): this is an index, not the rule.
 */

export interface WaitRow {
  execution_id: string;
  action_id: string;
  spec_index: number;
  org_id: string;
  event_name: string;
  event_path: string;
  match_key: string;
  since: number;
  expires_at: number;
}

export interface WaitPath {
  event_name: string;
  event_path: string;
}

/** The value at `$.<path>` of the JSON parameter `?n`, as text the way engine/event-waits.ts matchText writes it; NULL when absent. */
const valueText = (json: string, path: string) => {
  const at = `${json}, '$.' || ${path}`;
  return `CASE json_type(${at})
    WHEN 'text' THEN json_extract(${at}) WHEN 'integer' THEN CAST(json_extract(${at}) AS TEXT)
    WHEN 'real' THEN CAST(json_extract(${at}) AS TEXT) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
    WHEN 'object' THEN json_extract(${at}) WHEN 'array' THEN json_extract(${at}) END`;
};

/** Puts a wait's specs in the index (a retriggered action's wait replaces its earlier one) and its paths in the registry. */
export function registerWaitStatements(db: D1Database, flowId: string, rows: WaitRow[]): D1PreparedStatement[] {
  return rows.flatMap((r) => [
    db
      .prepare(
        `INSERT INTO event_waits (execution_id, action_id, spec_index, org_id, event_name, event_path, match_key, since, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (execution_id, action_id, spec_index) DO UPDATE SET event_name = excluded.event_name,
           event_path = excluded.event_path, match_key = excluded.match_key, since = excluded.since, expires_at = excluded.expires_at`,
      )
      .bind(r.execution_id, r.action_id, r.spec_index, r.org_id, r.event_name, r.event_path, r.match_key, r.since, r.expires_at),
    db
      .prepare(`INSERT OR IGNORE INTO event_wait_paths (org_id, event_name, event_path, flow_id) VALUES (?, ?, ?, ?)`)
      .bind(r.org_id, r.event_name, r.event_path, flowId),
  ]);
}

/** Earlier events of a spec's name and match key accepted since `since` (its lookback), oldest first, with their inbox bodies. */
export function lookbackStatement(
  db: D1Database,
  orgId: string,
  eventName: string,
  matchKey: string,
  since: number,
  limit: number,
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT h.event_id, h.at, i.body FROM event_history h JOIN event_inbox i ON i.org_id = h.org_id AND i.id = h.event_id
       WHERE h.org_id = ? AND h.event_name = ? AND h.match_key = ? AND h.at >= ? ORDER BY h.at, h.event_id LIMIT ?`,
    )
    .bind(orgId, eventName, matchKey, since, limit);
}

export const lookbackBodies = (res: D1Result): string[] => (res.results as { body: string }[]).map((r) => r.body);

/** Takes an action's wait out of the index. */
export function clearWaitStatement(db: D1Database, executionId: string, actionId: string): D1PreparedStatement {
  return db.prepare(`DELETE FROM event_waits WHERE execution_id = ? AND action_id = ?`).bind(executionId, actionId);
}

/**
 * An event's match keys, one per registered path of its name that it has a value at (and '' when an
 * uncorrelated wait names it), kept in event_history. `body` is the event as a wait sees it (JSON).
 */
export function eventKeysStatement(
  db: D1Database,
  e: { org_id: string; name: string; id: string; at: number; body: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO event_history (org_id, event_name, match_key, event_id, at)
       SELECT ?1, ?2, k, ?3, ?4 FROM (
         SELECT CASE WHEN p.event_path = '' THEN '' ELSE p.event_path || '=' || (${valueText("?5", "p.event_path")}) END AS k
         FROM (SELECT DISTINCT event_path FROM event_wait_paths WHERE org_id = ?1 AND event_name = ?2) p)
       WHERE k IS NOT NULL`,
    )
    .bind(e.org_id, e.name, e.id, e.at, e.body);
}

/** The waits an event may satisfy: its match keys (eventKeysStatement, earlier in the same batch) looked up in the index. */
export function waitsForEventStatement(
  db: D1Database,
  e: { org_id: string; name: string; id: string; at: number },
  limit: number,
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT w.* FROM event_waits w
       WHERE w.org_id = ?1 AND w.event_name = ?2
         AND w.match_key IN (SELECT match_key FROM event_history WHERE org_id = ?1 AND event_id = ?3)
         AND w.since <= ?4 AND w.expires_at >= ?4
       LIMIT ?5`,
    )
    .bind(e.org_id, e.name, e.id, e.at, limit);
}

// The batch that reads them (services/event-waits.ts) runs beside a write, so its result comes untyped.
export const waitRows = (res: D1Result): WaitRow[] => (res as D1Result<WaitRow>).results;

/** Deletes one spec's entry (its execution no longer waits: a stale entry a delivery found). */
export async function deleteWaitRow(
  db: D1Database,
  r: Pick<WaitRow, "execution_id" | "action_id" | "spec_index">,
): Promise<void> {
  await db
    .prepare(`DELETE FROM event_waits WHERE execution_id = ? AND action_id = ? AND spec_index = ?`)
    .bind(r.execution_id, r.action_id, r.spec_index)
    .run();
}

/**
 * A flow write's registry rows: the flow's wait paths replace its earlier ones, except paths a live wait
 * still uses (an execution of an older version waiting on a path the edit removed keeps being matched).
 * `guard` is the flow write's own guard (the rows change only if the flow row did).
 */
export function flowWaitPathStatements(
  db: D1Database,
  orgId: string,
  flowId: string,
  paths: WaitPath[],
  guard: { sql: string; binds: unknown[] },
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `DELETE FROM event_wait_paths WHERE org_id = ? AND flow_id = ? AND ${guard.sql}
           AND NOT EXISTS (SELECT 1 FROM event_waits w WHERE w.org_id = event_wait_paths.org_id
             AND w.event_name = event_wait_paths.event_name AND w.event_path = event_wait_paths.event_path)`,
      )
      .bind(orgId, flowId, ...guard.binds),
    ...paths.map((p) =>
      db
        .prepare(
          `INSERT OR IGNORE INTO event_wait_paths (org_id, event_name, event_path, flow_id) SELECT ?, ?, ?, ? WHERE ${guard.sql}`,
        )
        .bind(orgId, p.event_name, p.event_path, flowId, ...guard.binds),
    ),
  ];
}

// ---- retention ----------------------------------------------------------------------------------

/** Event keys older than the longest lookback go. */
export async function pruneEventHistory(db: D1Database, before: number, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM event_history WHERE rowid IN (SELECT rowid FROM event_history WHERE at < ? LIMIT ?)`)
    .bind(before, limit)
    .run();
  return res.meta.changes;
}

/** Entries of waits that timed out long ago (their execution ended the wait; an entry it failed to clear). */
export async function pruneExpiredWaits(db: D1Database, before: number, limit: number): Promise<number> {
  const res = await db
    .prepare(`DELETE FROM event_waits WHERE rowid IN (SELECT rowid FROM event_waits WHERE expires_at < ? LIMIT ?)`)
    .bind(before, limit)
    .run();
  return res.meta.changes;
}

/** Registry rows of deleted flows that no live wait uses. */
export async function pruneOrphanWaitPaths(db: D1Database, limit: number): Promise<number> {
  const res = await db
    .prepare(
      `DELETE FROM event_wait_paths WHERE rowid IN (
         SELECT p.rowid FROM event_wait_paths p
         WHERE NOT EXISTS (SELECT 1 FROM flows f WHERE f.org_id = p.org_id AND f.id = p.flow_id)
           AND NOT EXISTS (SELECT 1 FROM event_waits w WHERE w.org_id = p.org_id AND w.event_name = p.event_name
             AND w.event_path = p.event_path)
         LIMIT ?)`,
    )
    .bind(limit)
    .run();
  return res.meta.changes;
}
