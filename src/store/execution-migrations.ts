import type { ObjectMigrations } from "./object-schema";

/** Ordered storage migrations: entry i brings storage from version i to i + 1. Never edit a shipped one. */
export const MIGRATIONS: ObjectMigrations = [
  // 1: the first layout: everything but the event log, attempts and timers inside kv's state value.
  [
    `CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS attempts (action_id TEXT NOT NULL, iteration INTEGER NOT NULL, attempt INTEGER NOT NULL,
       started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, request TEXT, response TEXT, error TEXT,
       PRIMARY KEY (action_id, iteration, attempt))`,
    `CREATE TABLE IF NOT EXISTS timers (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL)`,
  ],
  // 2: bounded state: outputs, loop iterations and loop items as rows of their own (the state value is
  // upcast on its first load, engine/execution/upcast.ts); the creation input out of the state row.
  [
    `CREATE TABLE IF NOT EXISTS outputs (action_id TEXT PRIMARY KEY, data TEXT NOT NULL, truncated INTEGER NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS iterations (action_id TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
       started_at INTEGER, ended_at INTEGER, error TEXT, outputs TEXT, truncated INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (action_id, idx))`,
    `CREATE TABLE IF NOT EXISTS loop_items (action_id TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (action_id, idx))`,
  ],
  // 3: the side effects each attempt caused (JSON list of engine/reruns/side-effects.ts SideEffect): the
  // ledger (docs/reruns.md). Rows from before keep NULL; the ledger derives theirs from the request.
  [`ALTER TABLE attempts ADD COLUMN effects TEXT`],
  // 4: the timers as kv rows (`timer:<kind>` = due time), so a commit writes them with its other kv rows in
  // its one statement instead of a statement per timer (issue 29).
  [`INSERT INTO kv (key, value) SELECT 'timer:' || kind, CAST(due_at AS TEXT) FROM timers`, `DROP TABLE timers`],
];

/**
 * The layout every migration above leads to, for empty storage: a new object creates it in one go instead
 * of replaying the history (no table created only to be altered or dropped). test/execution/storage-upgrade
 * checks that it equals the migrated layout.
 */
export const CURRENT_LAYOUT: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS attempts (action_id TEXT NOT NULL, iteration INTEGER NOT NULL, attempt INTEGER NOT NULL,
     started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, request TEXT, response TEXT, error TEXT,
     effects TEXT, PRIMARY KEY (action_id, iteration, attempt))`,
  `CREATE TABLE IF NOT EXISTS outputs (action_id TEXT PRIMARY KEY, data TEXT NOT NULL, truncated INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS iterations (action_id TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
     started_at INTEGER, ended_at INTEGER, error TEXT, outputs TEXT, truncated INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (action_id, idx))`,
  `CREATE TABLE IF NOT EXISTS loop_items (action_id TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (action_id, idx))`,
];
/** Storage from before schema versions: version 1 if it has the first layout's tables. */
export const LEGACY_VERSION = (has: (table: string) => boolean): number => (has("kv") ? 1 : 0);
