/**
 * Maintenance queries of a key rotation (services/secret-rotation.ts): they span every organization, like
 * the reconciler's, because ENCRYPTION_KEY is one per deployment. Each row keeps its own org_id, and the
 * AES-GCM associated data still binds every blob to its org and owner.
 */

export const SECRET_TABLES = ["flow_secrets", "flow_secrets_retired", "connections"] as const;
export type SecretTable = (typeof SECRET_TABLES)[number];
export type FlowSecretTable = Exclude<SecretTable, "connections">;

export interface SealedFlowSecret {
  org_id: string;
  flow_id: string;
  owner: string;
  key_id: string;
  ciphertext: string;
}

/** A page of flow secrets not sealed with `currentKeyId`, after the cursor (flow_id, owner, ciphertext). */
export async function staleFlowSecrets(
  db: D1Database,
  table: FlowSecretTable,
  currentKeyId: string,
  after: { flow_id: string; owner: string; ciphertext: string },
  limit: number,
): Promise<SealedFlowSecret[]> {
  const { results } = await db
    .prepare(
      `SELECT org_id, flow_id, trigger_id AS owner, key_id, ciphertext FROM ${table}
       WHERE key_id != ? AND (flow_id, trigger_id, ciphertext) > (?, ?, ?)
       ORDER BY flow_id, trigger_id, ciphertext LIMIT ?`,
    )
    .bind(currentKeyId, after.flow_id, after.owner, after.ciphertext, limit)
    .all<SealedFlowSecret>();
  return results;
}

/** Replaces one blob, only if it is still the one that was read (a concurrent flow update wins). */
export function replaceFlowSecretStatement(
  db: D1Database,
  table: FlowSecretTable,
  row: SealedFlowSecret,
  keyId: string,
  ciphertext: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE ${table} SET key_id = ?, ciphertext = ? WHERE org_id = ? AND flow_id = ? AND trigger_id = ? AND ciphertext = ?`,
    )
    .bind(keyId, ciphertext, row.org_id, row.flow_id, row.owner, row.ciphertext);
}

/** How many blobs each key id sealed, per table. */
export async function keyIdCounts(db: D1Database): Promise<{ table: SecretTable; key_id: string; n: number }[]> {
  const stmts = SECRET_TABLES.map((t) => db.prepare(`SELECT '${t}' AS "table", key_id, COUNT(*) AS n FROM ${t} GROUP BY key_id`));
  const results = await db.batch<{ table: SecretTable; key_id: string; n: number }>(stmts);
  return results.flatMap((r) => r.results);
}

/** Organizations that have connections sealed with another key than `currentKeyId`. */
export async function orgsWithStaleConnections(db: D1Database, currentKeyId: string): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT DISTINCT org_id FROM connections WHERE key_id != ? ORDER BY org_id`)
    .bind(currentKeyId)
    .all<{ org_id: string }>();
  return results.map((r) => r.org_id);
}
