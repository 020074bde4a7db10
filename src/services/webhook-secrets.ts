import { verifyWebhookSignature, type WebhookProvider } from "../engine/webhook-signatures";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { SecretError, blobKeyId, decryptSecret, needsReencryption, reencryptSecret } from "../lib/secrets";
import { flowSecretAad, updateFlowSecretCiphertext } from "../store/flow-secrets";
import type { WebhookTarget } from "../store/flows";

/**
 * The signing secrets of a webhook trigger and the check of an inbound call against them. The secrets are
 * decrypted here only; the signature arithmetic is the pure engine's (engine/webhook-signatures.ts).
 */

/**
 * The trigger's current secret and those replaced less than the overlap window ago. Fails closed (503) when the
 * current one cannot be decrypted; re-seals it with the current key after an ENCRYPTION_KEY rotation.
 */
export async function webhookSigningSecrets(env: Env, target: WebhookTarget, triggerId: string): Promise<string[]> {
  const { flow } = target;
  const aad = flowSecretAad(flow.org_id, flow.id, triggerId);
  const row = target.secrets.find((s) => s.owner === triggerId);
  let current: string | null = null;
  if (row) {
    try {
      current = await decryptSecret(env, row.ciphertext, aad);
    } catch (err) {
      if (err instanceof SecretError)
        throw new AppError(503, "SECRET_UNAVAILABLE", "The webhook's signing secret cannot be read");
      throw err;
    }
    if (needsReencryption(env, row.ciphertext)) {
      const blob = await reencryptSecret(env, row.ciphertext, aad);
      await updateFlowSecretCiphertext(env.DB, flow.org_id, flow.id, triggerId, blobKeyId(blob), blob);
    }
  }
  const retired = target.retired.filter((r) => r.owner === triggerId);
  const older = await Promise.all(retired.map((r) => decryptSecret(env, r.ciphertext, aad).catch(() => null)));
  return [current, ...older].filter((s): s is string => typeof s === "string");
}

/**
 * 401 unless the call is signed with one of the trigger's secrets, or the trigger has none and accepts unsigned
 * calls (`allow_unsigned`). Returns whether a signature was verified.
 */
export async function verifyWebhookCall(
  env: Env,
  target: WebhookTarget,
  trigger: { id: string; configuration: { provider: WebhookProvider; allow_unsigned?: boolean } },
  headers: Headers,
  raw: Uint8Array,
  now: number,
): Promise<{ signed: boolean }> {
  const secrets = await webhookSigningSecrets(env, target, trigger.id);
  if (secrets.length > 0) {
    const verdict = await verifyWebhookSignature(trigger.configuration.provider, secrets, headers, raw, now);
    if (!verdict.ok)
      throw new AppError(401, "INVALID_SIGNATURE", verdict.message, [{ message: verdict.message, code: verdict.reason }]);
    return { signed: true };
  }
  if (!trigger.configuration.allow_unsigned) {
    throw new AppError(401, "INVALID_SIGNATURE", "This webhook has no signing secret and does not accept unsigned calls");
  }
  return { signed: false };
}
