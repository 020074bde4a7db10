import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { blobKeyId, canEncryptSecrets, encryptSecret } from "../lib/secrets";
import {
  SECRET_ACTION_TYPES,
  triggerSourceKey,
  type AutomationFlow,
  type DisableDetails,
  type ParsedFlowInput,
} from "../schemas/flow";
import { sha256Hex } from "../lib/crypto";
import { actionSecretOwner, flowSecretAad } from "../store/flow-secrets";
import type { WebhookTokenRow } from "../store/webhook-tokens";
import type { FlowDoc, FlowSecretRow, FlowWrite, RetiredSecretRow } from "../store/flows";
import { validateFlowDocument, validateFlowReferences } from "./flow-validation";

/**
 * Turns a validated flow body into what the store writes: ids assigned, secrets split off (encrypted,
 * replaced by `secret_configured`) and rotated, the document validated (services/flow-validation.ts), the
 * trigger index computed. Pure of D1: the caller reads the stored flow and secrets and writes the result.
 */

interface SecretSlot {
  owner: string;
  config: { secret?: string | null; secret_configured?: boolean; rotate_immediately?: boolean };
  /** Webhook triggers' secrets verify inbound calls: a replaced one keeps working for an overlap window. */
  overlap: boolean;
}

export interface PrepareArgs {
  env: Env;
  orgId: string;
  flowId: string;
  input: ParsedFlowInput;
  /** The stored flow on a PUT, null on create. */
  existing: AutomationFlow | null;
  existingSecrets: FlowSecretRow[];
  /** The stored URL tokens (hashed) on a PUT. */
  existingTokens?: WebhookTokenRow[];
  at: string;
  actor: string;
  blame: string;
}

const userDisabled = (at: string, blame: string): DisableDetails => ({ disabled_at: at, disabled_by: "user", blame });

export async function prepareFlowWrite(a: PrepareArgs): Promise<FlowWrite> {
  const { enabled: requestedEnabled, ...input } = structuredClone(a.input);

  // Ids: keep the client's, assign new ones to items without. A webhook trigger sent without its id keeps
  // the id (and so the stored secret) of the stored webhook trigger with the same path.
  const storedWebhookIds = new Map<string, string>();
  for (const t of a.existing?.triggers ?? []) if (t.type === "webhook") storedWebhookIds.set(t.configuration.path, t.id);
  const usedTriggerIds = new Set(input.triggers.map((t) => t.id).filter(Boolean));
  const triggers = input.triggers.map((t) => {
    if (t.id) return { ...t, id: t.id };
    const reuse = t.type === "webhook" ? storedWebhookIds.get(t.configuration.path) : undefined;
    const id = reuse && !usedTriggerIds.has(reuse) ? reuse : newId();
    usedTriggerIds.add(id);
    return { ...t, id };
  });
  const doc: FlowDoc = { ...input, triggers, actions: input.actions.map((action) => ({ ...action, id: action.id || newId() })) };

  const slots: SecretSlot[] = [];
  for (const t of doc.triggers) if (t.type === "webhook") slots.push({ owner: t.id, config: t.configuration, overlap: true });
  for (const action of doc.actions) {
    if (SECRET_ACTION_TYPES.has(action.type) && action.config && typeof action.config === "object") {
      slots.push({ owner: actionSecretOwner(action.id), config: action.config as SecretSlot["config"], overlap: false });
    }
  }

  const stored = new Map(a.existingSecrets.map((s) => [s.owner, s]));
  const kept: FlowSecretRow[] = [];
  const fresh: { owner: string; plaintext: string }[] = [];
  const retired = { add: [] as RetiredSecretRow[], keep: [] as string[] };
  const overlapEnds = new Date(Date.parse(a.at) + LIMITS.WEBHOOK_SECRET_OVERLAP_MS).toISOString();
  for (const slot of slots) {
    const secret = slot.config.secret;
    const immediately = slot.overlap && slot.config.rotate_immediately === true;
    delete slot.config.secret;
    if (slot.overlap) delete slot.config.rotate_immediately;
    // Rotation: the replaced secret keeps verifying until overlapEnds, unless rotate_immediately (which
    // also ends an overlap still running) or the secret is removed.
    const previous = stored.get(slot.owner);
    if (slot.overlap && !immediately && secret !== null) {
      retired.keep.push(slot.owner);
      if (typeof secret === "string" && previous) {
        retired.add.push({
          owner: slot.owner,
          key_id: previous.key_id,
          ciphertext: previous.ciphertext,
          retired_at: a.at,
          expires_at: overlapEnds,
        });
      }
    }
    if (typeof secret === "string") fresh.push({ owner: slot.owner, plaintext: secret });
    else if (secret === undefined && stored.has(slot.owner)) kept.push(stored.get(slot.owner)!);
    slot.config.secret_configured = typeof secret === "string" || (secret === undefined && stored.has(slot.owner));
  }
  const tokens = await webhookTokens(doc, a.existingTokens ?? [], a.at);
  // Validation sees the secrets resolved above (a webhook trigger must end up with one, or allow unsigned calls).
  validateFlowDocument(a.env, doc);
  await validateFlowReferences(a.env, a.orgId, doc);

  if (fresh.length > 0 && !canEncryptSecrets(a.env)) {
    throw new AppError(
      503,
      "ENCRYPTION_NOT_CONFIGURED",
      "This server cannot store secrets: ENCRYPTION_KEY is not configured. Set it (wrangler secret put ENCRYPTION_KEY) and retry.",
    );
  }
  const secrets: FlowSecretRow[] = [...kept];
  for (const f of fresh) {
    const ciphertext = await encryptSecret(a.env, f.plaintext, flowSecretAad(a.orgId, a.flowId, f.owner));
    secrets.push({ owner: f.owner, key_id: blobKeyId(ciphertext), ciphertext, created_at: a.at });
  }

  const enabled = requestedEnabled ?? a.existing?.enabled ?? true;
  let disable_details: DisableDetails | null = null;
  if (!enabled)
    disable_details = a.existing && !a.existing.enabled ? (a.existing.disable_details ?? null) : userDisabled(a.at, a.blame);

  return {
    id: a.flowId,
    org_id: a.orgId,
    enabled,
    doc,
    disable_details,
    at: a.at,
    actor: a.actor,
    triggers: doc.triggers.map((t) => ({ trigger_id: t.id, trigger_type: t.type, source_key: triggerSourceKey(t) })),
    secrets,
    tokens,
    retired_secrets: retired,
  };
}

/**
 * The webhook triggers' URL tokens: a `token` sent is hashed (the plaintext leaves the document here), an omitted one
 * keeps the stored hash of the same trigger id, null removes it. `token_configured: true` marks a trigger with one.
 */
async function webhookTokens(doc: FlowDoc, stored: WebhookTokenRow[], at: string): Promise<WebhookTokenRow[]> {
  const byOwner = new Map(stored.map((t) => [t.owner, t]));
  const out: WebhookTokenRow[] = [];
  for (const t of doc.triggers) {
    if (t.type !== "webhook") continue;
    const cfg = t.configuration as { token?: string | null; token_configured?: boolean };
    const token = cfg.token;
    delete cfg.token;
    delete cfg.token_configured;
    if (typeof token === "string") out.push({ owner: t.id, token_hash: await sha256Hex(token), created_at: at });
    else if (token === undefined && byOwner.has(t.id)) out.push(byOwner.get(t.id)!);
    if (out.some((x) => x.owner === t.id)) cfg.token_configured = true;
  }
  return out;
}
