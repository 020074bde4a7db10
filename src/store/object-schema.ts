/**
 * Versioned storage for Durable Objects' SQLite: a one-row `schema_version` table and an ordered list
 * of migrations, entry i bringing storage from version i to i + 1. Storage written before versions
 * existed is recognised by `legacyVersion` (which tables it has). Migrations run in one transaction, so
 * an object is never left half-migrated. Shipped migrations are never edited, only appended to.
 */
export type ObjectMigrations = readonly (readonly string[])[];

const hasTable = (sql: SqlStorage, name: string): boolean =>
  sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, name).toArray().length > 0;

/** The storage's layout version: 0 for empty storage. */
export function storageVersion(sql: SqlStorage, legacyVersion: (has: (table: string) => boolean) => number): number {
  if (!hasTable(sql, "schema_version")) return legacyVersion((t) => hasTable(sql, t));
  return sql.exec<{ version: number }>(`SELECT version FROM schema_version`).one().version;
}

/**
 * Runs the migrations the storage has not had yet; returns the version it is now at. `knownFrom` is the
 * version when the caller already knows it (0 for storage it just found empty), which saves the probes.
 * `layout`, when given, is what all the migrations lead to: empty storage gets it instead of the history.
 * `inTransaction`: the caller runs this inside its own transaction (one commit with its first writes).
 * The statements go to SQLite in one call (a new object's whole layout is a dozen DDL statements: one
 * call instead of a dozen, and one trace span), inside one transaction.
 */
export function migrateStorage(
  storage: DurableObjectStorage,
  migrations: ObjectMigrations,
  legacyVersion: (has: (table: string) => boolean) => number,
  { knownFrom, layout, inTransaction = false }: { knownFrom?: number; layout?: readonly string[]; inTransaction?: boolean } = {},
): number {
  const sql = storage.sql;
  const from = knownFrom ?? storageVersion(sql, legacyVersion);
  if (from >= migrations.length) return from;
  const statements = [
    ...(from === 0 && layout ? layout : migrations.slice(from).flat()),
    `CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
    // The last statement: the only one of a multi-statement call that may take parameters.
    `INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
  ];
  const run = () => sql.exec(statements.join(";\n"), migrations.length);
  if (inTransaction) run();
  else storage.transactionSync(run);
  return migrations.length;
}
