import type { Env } from "../env";
import { validateFilterConfig } from "../engine/conditions";
import { validateTemplates } from "../engine/templates";
import { AppError, type ErrorDetail } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { blobKeyId, canEncryptSecrets, encryptSecret } from "../lib/secrets";
import { outboundRefusal } from "../lib/ssrf";
import { isTemplate } from "../schemas/flow-common";
import {
  SECRET_ACTION_TYPES,
  triggerSourceKey,
  type AutomationFlow,
  type DisableDetails,
  type ParsedFlowInput,
} from "../schemas/flow";
import { actionSecretOwner, flowSecretAad } from "../store/flow-secrets";
import type { FlowDoc, FlowSecretRow, FlowWrite, RetiredSecretRow } from "../store/flows";

/**
 * Turns a validated flow body into what the store writes: ids assigned, secrets split off (encrypted,
 * replaced by `secret_configured`), templates parsed, the trigger index computed and the size checked.
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
  at: string;
  actor: string;
  blame: string;
}

/** Action types whose `config.url` the engine calls. */
const OUTBOUND_URL_ACTIONS = new Set(["call_webhook", "trigger-webhook", "custom-action"]);

/** Literal outbound URLs refused by the SSRF policy (lib/ssrf.ts); templated ones are checked when sent. */
function outboundUrlProblems(env: Env, doc: FlowDoc): ErrorDetail[] {
  const targets: { path: string; url: unknown }[] = doc.actions
    .map((action, i) => ({ action, i }))
    .filter(({ action }) => OUTBOUND_URL_ACTIONS.has(action.type))
    .map(({ action, i }) => ({ path: `actions.${i}.config.url`, url: (action.config as { url?: unknown } | undefined)?.url }));
  targets.push({ path: "error_handling.notify_url", url: doc.error_handling?.notify_url });
  const problems: ErrorDetail[] = [];
  for (const { path, url } of targets) {
    if (typeof url !== "string" || isTemplate(url)) continue;
    const reason = outboundRefusal(env, url);
    if (reason)
      problems.push({ path, location: "json", message: `not an allowed outbound URL: ${reason}`, code: "outbound_refused" });
  }
  return problems;
}

const userDisabled = (at: string, blame: string): DisableDetails => ({ disabled_at: at, disabled_by: "user", blame });

export async function prepareFlowWrite(a: PrepareArgs): Promise<FlowWrite> {
  const { enabled: requestedEnabled, ...rest } = structuredClone(a.input);
  const doc = rest as unknown as FlowDoc;

  // Ids: keep the client's, assign new ones to items without. A webhook trigger sent without its id keeps
  // the id (and so the stored secret) of the stored webhook trigger with the same path.
  const storedWebhookIds = new Map<string, string>();
  for (const t of a.existing?.triggers ?? []) if (t.type === "webhook") storedWebhookIds.set(t.configuration.path, t.id);
  const usedTriggerIds = new Set(doc.triggers.map((t) => t.id).filter(Boolean));
  for (const t of doc.triggers) {
    if (t.id) continue;
    const reuse = t.type === "webhook" ? storedWebhookIds.get(t.configuration.path) : undefined;
    t.id = reuse && !usedTriggerIds.has(reuse) ? reuse : newId();
    usedTriggerIds.add(t.id);
  }
  for (const action of doc.actions) action.id ||= newId();

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
  const problems: ErrorDetail[] = [];
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
  doc.triggers.forEach((t, i) => {
    if (t.type === "webhook" && !t.configuration.secret_configured && !t.configuration.allow_unsigned) {
      problems.push({
        path: `triggers.${i}.configuration.secret`,
        location: "json",
        message: "A webhook trigger needs a secret unless allow_unsigned is true",
      });
    }
  });
  // An entity_operation filter that can never match is a 400 now, not a silent no-op at run time.
  doc.triggers.forEach((t, i) => {
    if (t.type !== "entity_operation" || t.configuration.filter_config === undefined) return;
    for (const issue of validateFilterConfig(t.configuration.filter_config)) {
      problems.push({
        path: `triggers.${i}.configuration.filter_config${issue.path ? `.${issue.path}` : ""}`,
        location: "json",
        message: issue.message,
        code: "invalid_filter",
      });
    }
  });
  // Templates are parsed (not rendered) at save time, so a syntax error is a 400 now rather than a failed run later.
  doc.actions.forEach((action, i) => {
    for (const issue of validateTemplates(action.config)) {
      const where = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.col})` : "";
      problems.push({
        path: `actions.${i}.config${issue.path ? `.${issue.path}` : ""}`,
        location: "json",
        message: `Invalid template${where}: ${issue.message}`,
        code: "invalid_template",
      });
    }
  });
  for (const issue of validateTemplates(doc.error_handling?.notify_url)) {
    problems.push({
      path: "error_handling.notify_url",
      location: "json",
      message: `Invalid template: ${issue.message}`,
      code: "invalid_template",
    });
  }
  problems.push(...outboundUrlProblems(a.env, doc));
  if (problems.length > 0) throw new AppError(400, "VALIDATION_ERROR", "Invalid request body", problems);

  const bytes = new TextEncoder().encode(JSON.stringify(doc)).length;
  if (bytes > LIMITS.MAX_FLOW_BYTES) {
    throw new AppError(413, "FLOW_TOO_LARGE", `The flow document is ${bytes} bytes; the limit is ${LIMITS.MAX_FLOW_BYTES} bytes`);
  }

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
    retired_secrets: retired,
  };
}
