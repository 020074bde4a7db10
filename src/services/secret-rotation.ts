import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { SecretError, blobKeyId, keyIdOf, keyMaterial, reencryptSecret } from "../lib/secrets";
import { flowSecretAad } from "../store/flow-secrets";
import {
  type FlowSecretTable,
  type SecretTable,
  keyIdCounts,
  orgsWithStaleConnections,
  replaceFlowSecretStatement,
  staleFlowSecrets,
} from "../store/secret-rotation";
import { reencryptConnections } from "./connections";
import { invalidateAllFlows } from "../store/flow-invalidation";

/**
 * Key rotation of secrets at rest. The operator sets a new ENCRYPTION_KEY and moves the old one into
 * ENCRYPTION_KEYS_PREVIOUS (both keep decrypting), calls `reencryptAllSecrets` until `stale` is 0, and only
 * then removes the old key: every blob (flow secrets, retired webhook secrets, connections) is readable
 * with the new key alone. A blob that cannot be opened is reported and left as it is, never dropped.
 */

export interface SecretStatus {
  current_key_id: string;
  /** Blobs per key id, per table. */
  by_key: Record<SecretTable, Record<string, number>>;
  /** Blobs sealed with another key than the current one: the old key must stay until this is 0. */
  stale: number;
}

export interface ReencryptReport extends SecretStatus {
  reencrypted: number;
  failed: { table: SecretTable; org_id: string; id: string; reason: string }[];
}

function currentKeyId(env: Env): string {
  if (!env.ENCRYPTION_KEY) throw new AppError(503, "ENCRYPTION_NOT_CONFIGURED", "No ENCRYPTION_KEY is configured");
  return keyIdOf(keyMaterial(env.ENCRYPTION_KEY));
}

export async function secretStatus(env: Env): Promise<SecretStatus> {
  const current = currentKeyId(env);
  const by_key: SecretStatus["by_key"] = { flow_secrets: {}, flow_secrets_retired: {}, connections: {} };
  let stale = 0;
  for (const { table, key_id, n } of await keyIdCounts(env.DB)) {
    by_key[table][key_id] = n;
    if (key_id !== current) stale += n;
  }
  return { current_key_id: current, by_key, stale };
}

async function reencryptFlowTable(env: Env, table: FlowSecretTable, current: string, report: ReencryptReport): Promise<void> {
  let after = { flow_id: "", owner: "", ciphertext: "" };
  for (;;) {
    const rows = await staleFlowSecrets(env.DB, table, current, after, LIMITS.REENCRYPT_BATCH_SIZE);
    if (rows.length === 0) return;
    const updates: D1PreparedStatement[] = [];
    for (const row of rows) {
      try {
        const blob = await reencryptSecret(env, row.ciphertext, flowSecretAad(row.org_id, row.flow_id, row.owner));
        updates.push(replaceFlowSecretStatement(env.DB, table, row, blobKeyId(blob), blob));
      } catch (err) {
        if (!(err instanceof SecretError)) throw err;
        report.failed.push({ table, org_id: row.org_id, id: `${row.flow_id}/${row.owner}`, reason: err.code });
      }
    }
    if (updates.length > 0) {
      const results = await env.DB.batch(updates);
      invalidateAllFlows(); // cached webhook targets hold the old ciphertexts
      report.reencrypted += results.reduce((n, r) => n + r.meta.changes, 0);
    }
    const last = rows[rows.length - 1];
    after = { flow_id: last.flow_id, owner: last.owner, ciphertext: last.ciphertext };
  }
}

/** Re-seals every blob not sealed with the current key; returns what it did and the status after it. */
export async function reencryptAllSecrets(env: Env): Promise<ReencryptReport> {
  const current = currentKeyId(env);
  const report: ReencryptReport = { ...(await secretStatus(env)), reencrypted: 0, failed: [] };
  await reencryptFlowTable(env, "flow_secrets", current, report);
  await reencryptFlowTable(env, "flow_secrets_retired", current, report);
  for (const orgId of await orgsWithStaleConnections(env.DB, current)) {
    const res = await reencryptConnections(env, orgId);
    report.reencrypted += res.reencrypted;
    for (const id of res.failed) report.failed.push({ table: "connections", org_id: orgId, id, reason: "decrypt_failed" });
  }
  return { ...report, ...(await secretStatus(env)) };
}
