import type { Env } from "../env";
import { decryptSecret, needsReencryption, reencryptSecret, blobKeyId } from "../lib/secrets";
import type { FlowSecretRow } from "./flows";
import { invalidateFlow } from "./flow-invalidation";

/**
 * Encrypted secrets of flows (`flow_secrets`): webhook triggers' signing secrets and the outbound signing
 * secrets of trigger-webhook / call_webhook actions. The `trigger_id` column holds the owner: a trigger id,
 * or `action:<action id>` (item ids cannot contain ':', so the two never clash). Rows are written together
 * with their flow by store/flows.ts.
 */

/** Owner key of an action's secret. */
export const actionSecretOwner = (actionId: string): string => `action:${actionId}`;

/** Associated data binding a secret to its org, flow and owner: a ciphertext moved to another row does not decrypt. */
export const flowSecretAad = (orgId: string, flowId: string, owner: string): string =>
  owner.startsWith("action:") ? `${orgId}:flow:${flowId}:${owner}` : `${orgId}:flow:${flowId}:trigger:${owner}`;

/** The encrypted secrets of a flow (owner = trigger id, or `action:<id>`). */
export async function listFlowSecrets(db: D1Database, orgId: string, flowId: string): Promise<FlowSecretRow[]> {
  const { results } = await db
    .prepare(
      `SELECT trigger_id AS owner, key_id, ciphertext, created_at FROM flow_secrets WHERE org_id = ? AND flow_id = ? ORDER BY trigger_id`,
    )
    .bind(orgId, flowId)
    .all<FlowSecretRow>();
  return results;
}

export async function getFlowSecretRow(
  db: D1Database,
  orgId: string,
  flowId: string,
  owner: string,
): Promise<FlowSecretRow | null> {
  return db
    .prepare(
      `SELECT trigger_id AS owner, key_id, ciphertext, created_at FROM flow_secrets WHERE org_id = ? AND flow_id = ? AND trigger_id = ?`,
    )
    .bind(orgId, flowId, owner)
    .first<FlowSecretRow>();
}

/** Replaces one stored ciphertext (after a key rotation); the flow itself is untouched. */
export async function updateFlowSecretCiphertext(
  db: D1Database,
  orgId: string,
  flowId: string,
  owner: string,
  keyId: string,
  ciphertext: string,
): Promise<void> {
  await db
    .prepare(`UPDATE flow_secrets SET key_id = ?, ciphertext = ? WHERE org_id = ? AND flow_id = ? AND trigger_id = ?`)
    .bind(keyId, ciphertext, orgId, flowId, owner)
    .run();
  invalidateFlow(flowId);
}

/**
 * The plaintext secret of a webhook trigger (`owner` = trigger id) or an action (`actionSecretOwner(id)`),
 * or null when none is stored. Throws SecretError when it cannot be decrypted (fails closed). A secret
 * sealed with a previous key is re-encrypted with the current one on the way.
 */
export async function readFlowSecret(env: Env, orgId: string, flowId: string, owner: string): Promise<string | null> {
  const row = await getFlowSecretRow(env.DB, orgId, flowId, owner);
  if (!row) return null;
  const aad = flowSecretAad(orgId, flowId, owner);
  const plaintext = await decryptSecret(env, row.ciphertext, aad);
  if (needsReencryption(env, row.ciphertext)) {
    const blob = await reencryptSecret(env, row.ciphertext, aad);
    await updateFlowSecretCiphertext(env.DB, orgId, flowId, owner, blobKeyId(blob), blob);
  }
  return plaintext;
}
