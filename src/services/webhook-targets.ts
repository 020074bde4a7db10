import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { SecretError, blobKeyId, decryptSecret, encryptSecret } from "../lib/secrets";
import { outboundRefusal } from "../lib/ssrf";
import { isoNow } from "../lib/time";
import type { WebhookAuthInput, WebhookAuthPatch, WebhookAuthType } from "../schemas/webhook-targets";
import { WEBHOOK_TARGETS, type WebhookTargetRow } from "../store/platform-resources";
import { changeResource, createResource, pageOf, removeResource, requireResource } from "./platform-resources";

/**
 * Webhook targets: a URL, extra headers and an auth whose secret (password, token, key or signing secret) is
 * sealed with the connections' AES-GCM scheme (lib/secrets.ts), bound to the target by its AAD, and never
 * returned. The URL is checked against the outbound policy when saved and again when called.
 */

const NOUN = "Webhook target";

/** The secret field of each auth type, and the public ones. */
const SECRET_FIELD: Record<WebhookAuthType, "password" | "token" | "key" | "secret" | null> = {
  none: null,
  basic: "password",
  bearer: "token",
  api_key: "key",
  standard_webhooks: "secret",
};

export const webhookTargetAad = (orgId: string, id: string) => `${orgId}:webhook_target:${id}`;

export interface WebhookTargetView {
  id: string;
  name: string;
  url: string;
  auth: { type: WebhookAuthType; username?: string; header?: string; secret_configured: boolean };
  headers: Record<string, string>;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export const toWebhookTargetView = (r: WebhookTargetRow): WebhookTargetView => ({
  id: r.id,
  name: r.name,
  url: r.url,
  auth: { type: r.auth_type as WebhookAuthType, ...r.auth_public, secret_configured: r.ciphertext !== null },
  headers: r.headers,
  created_by: r.created_by,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

function checkUrl(env: Env, url: string): void {
  const reason = outboundRefusal(env, url);
  if (reason) {
    throw new AppError(400, "VALIDATION_ERROR", `url is not an allowed outbound URL: ${reason}`, [
      { path: "url", location: "json", message: "not an allowed outbound URL", code: "outbound_refused" },
    ]);
  }
}

/** The auth's public fields and its secret (when the input carries one). */
function splitAuth(auth: WebhookAuthInput | WebhookAuthPatch): { public: Record<string, string>; secret?: string } {
  const field = SECRET_FIELD[auth.type];
  const pub: Record<string, string> = {};
  let secret: string | undefined;
  for (const [k, v] of Object.entries(auth)) {
    if (k === "type" || typeof v !== "string") continue;
    if (k === field) secret = v;
    else pub[k] = v;
  }
  return { public: pub, secret };
}

async function seal(env: Env, orgId: string, id: string, secret: string) {
  try {
    const ciphertext = await encryptSecret(env, secret, webhookTargetAad(orgId, id));
    return { key_id: blobKeyId(ciphertext), ciphertext };
  } catch (err) {
    if (err instanceof SecretError) throw new AppError(503, "ENCRYPTION_NOT_CONFIGURED", err.message);
    throw err;
  }
}

export async function createWebhookTarget(
  env: Env,
  p: Principal,
  input: { name: string; url: string; auth: WebhookAuthInput; headers: Record<string, string> },
): Promise<WebhookTargetView> {
  checkUrl(env, input.url);
  const id = newId();
  const at = isoNow();
  const auth = splitAuth(input.auth);
  const sealed = auth.secret === undefined ? { key_id: null, ciphertext: null } : await seal(env, p.orgId, id, auth.secret);
  const row: WebhookTargetRow = {
    id,
    org_id: p.orgId,
    name: input.name,
    url: input.url,
    auth_type: input.auth.type,
    auth_public: auth.public,
    headers: input.headers,
    ...sealed,
    created_by: p.actor,
    created_at: at,
    updated_at: at,
  };
  return toWebhookTargetView(await createResource(env, WEBHOOK_TARGETS, row, NOUN));
}

/**
 * A new `url` sends the stored secret somewhere else: refused (400 SECRETS_REQUIRED) unless the same request carries
 * the secret of the resulting auth again, as for a connection's URL fields (services/connections.ts). An auth without
 * a secret (`none`) has nothing to send.
 */
function requireSecretForUrlChange(stored: WebhookTargetRow, input: { url?: string; auth?: WebhookAuthPatch }): void {
  if (input.url === undefined || input.url === stored.url) return;
  const type = input.auth?.type ?? (stored.auth_type as WebhookAuthType);
  const field = SECRET_FIELD[type];
  if (field === null) return;
  const keepsStored = stored.ciphertext !== null && (input.auth === undefined || input.auth.type === stored.auth_type);
  if (!keepsStored || (input.auth && splitAuth(input.auth).secret !== undefined)) return;
  throw new AppError(
    400,
    "SECRETS_REQUIRED",
    `Changing url sends this target's ${field} elsewhere: send auth.${field} again in the same request`,
    [{ path: `auth.${field}`, location: "json", message: "required when the url changes" }],
  );
}

export async function updateWebhookTarget(
  env: Env,
  p: Principal,
  id: string,
  input: { name?: string; url?: string; auth?: WebhookAuthPatch; headers?: Record<string, string> },
): Promise<WebhookTargetView> {
  const stored = await requireResource(env, WEBHOOK_TARGETS, p.orgId, id, NOUN);
  if (input.url !== undefined) checkUrl(env, input.url);
  requireSecretForUrlChange(stored, input);
  const patch: Partial<WebhookTargetRow> = { updated_at: isoNow() };
  if (input.name !== undefined) patch.name = input.name;
  if (input.url !== undefined) patch.url = input.url;
  if (input.headers !== undefined) patch.headers = input.headers;
  if (input.auth) {
    const auth = splitAuth(input.auth);
    const field = SECRET_FIELD[input.auth.type];
    patch.auth_type = input.auth.type;
    patch.auth_public = auth.public;
    if (auth.secret !== undefined) Object.assign(patch, await seal(env, p.orgId, id, auth.secret));
    else if (field === null) Object.assign(patch, { key_id: null, ciphertext: null });
    else if (input.auth.type !== stored.auth_type || stored.ciphertext === null) {
      throw new AppError(400, "VALIDATION_ERROR", `A new ${input.auth.type} auth needs its ${field}`, [
        { path: `auth.${field}`, location: "json", message: "Required when the auth type changes" },
      ]);
    }
  }
  return toWebhookTargetView(await changeResource(env, WEBHOOK_TARGETS, p.orgId, id, patch, NOUN));
}

export const webhookTargetUseCases = {
  list: async (env: Env, orgId: string, limit: number, offset: number) => {
    const page = await pageOf(env, WEBHOOK_TARGETS, orgId, limit, offset);
    return { total: page.total, results: page.results.map(toWebhookTargetView) };
  },
  get: async (env: Env, orgId: string, id: string) =>
    toWebhookTargetView(await requireResource(env, WEBHOOK_TARGETS, orgId, id, NOUN)),
  create: createWebhookTarget,
  update: updateWebhookTarget,
  remove: (env: Env, orgId: string, id: string) => removeResource(env, WEBHOOK_TARGETS, orgId, id, NOUN),
};

/** A target as the engine calls it: the auth with its secret opened. Throws SecretError when it cannot be. */
export interface OpenedWebhookTarget {
  row: WebhookTargetRow;
  auth: { type: WebhookAuthType; username?: string; header?: string; secret?: string };
}

export async function openWebhookTarget(env: Env, row: WebhookTargetRow): Promise<OpenedWebhookTarget> {
  const secret = row.ciphertext ? await decryptSecret(env, row.ciphertext, webhookTargetAad(row.org_id, row.id)) : undefined;
  return { row, auth: { type: row.auth_type as WebhookAuthType, ...row.auth_public, secret } };
}
