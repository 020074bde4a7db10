import type { Env } from "../env";
import { AppError, notFound, type ErrorDetail } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { SecretError, blobKeyId, decryptSecret, encryptSecret, keyIdOf, keyMaterial, needsReencryption } from "../lib/secrets";
import { checkOutboundUrl, parseAllowedHosts } from "../lib/ssrf";
import { isoNow } from "../lib/time";
import { TransportFailure, createRequester, scrub } from "../providers/http";
import { connectionUrlFields, getProvider, platformIds } from "../providers/registry";
import type { AnyProvider, ProviderResult } from "../providers/types";
import type { ConnectionStatus } from "../schemas/integrations";
import {
  type ConnectionRow,
  type SealedConnectionRow,
  connectionSummaries,
  countConnections,
  deleteConnectionRow,
  getConnectionRow,
  insertConnection,
  rowsSealedWithOtherKeys,
  setConnectionStatus,
  updateConnectionRow,
} from "../store/connections";

/**
 * Connections: a provider config whose whole JSON is sealed with AES-GCM (lib/secrets.ts, key id beside the
 * ciphertext, bound to org + connection id by the AAD). What the API shows is `public_config`: the same config
 * with every secret field replaced by MASK. Plaintext exists only in memory while a call or test runs.
 */

export const MASK = "********";
export const connectionAad = (orgId: string, id: string): string => `${orgId}:connection:${id}`;

export type ConnectionView = Omit<ConnectionRow, "public_config" | "org_id"> & { config: Record<string, unknown> };

export const toView = (row: ConnectionRow): ConnectionView => ({
  id: row.id,
  platform: row.platform,
  name: row.name,
  status: row.status,
  error_message: row.error_message,
  config: row.public_config,
  created_at: row.created_at,
  updated_at: row.updated_at,
  created_by: row.created_by,
  last_tested_at: row.last_tested_at,
  last_used_at: row.last_used_at,
});

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function getAt(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);
}

export function requireProvider(platform: string): AnyProvider {
  const provider = getProvider(platform);
  if (!provider) {
    throw new AppError(
      400,
      "UNKNOWN_PLATFORM",
      `Unknown platform "${platform.slice(0, 100)}"; known platforms: ${platformIds().join(", ")}`,
      [{ path: "platform", message: `must be one of ${platformIds().join(", ")}` }],
    );
  }
  return provider;
}

/** The config with every secret field masked. */
export function maskConfig(provider: AnyProvider, config: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(config);
  for (const path of provider.secretFields) {
    const keys = path.split(".");
    const last = keys.pop()!;
    const parent = keys.length > 0 ? getAt(copy, keys.join(".")) : copy;
    if (isObject(parent) && typeof parent[last] === "string") parent[last] = MASK;
  }
  return copy;
}

/** Every secret value of a config (and the path of secret URLs): scrubbed from recorded exchanges and messages. */
export function secretValues(provider: AnyProvider, config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const path of provider.secretFields) {
    const v = getAt(config, path);
    if (typeof v !== "string") continue;
    out.push(v);
    if (URL.canParse(v)) {
      const u = new URL(v);
      if (u.pathname.length > 1) out.push(u.pathname);
      if (u.search) out.push(u.search.slice(1));
    }
  }
  return out;
}

/** Validates a config against the provider's schema and the outbound policy; 400 naming each bad field. */
export function validateConfig(env: Env, provider: AnyProvider, config: unknown): Record<string, unknown> {
  const bytes = new TextEncoder().encode(JSON.stringify(config ?? null)).length;
  if (bytes > LIMITS.MAX_CONNECTION_CONFIG_BYTES) {
    throw new AppError(400, "VALIDATION_ERROR", `A connection config may be at most ${LIMITS.MAX_CONNECTION_CONFIG_BYTES} bytes`);
  }
  const parsed = provider.config.safeParse(config);
  if (!parsed.success) {
    const details: ErrorDetail[] = parsed.error.issues.map((i) => ({
      path: ["config", ...i.path.map(String)].join("."),
      location: "json",
      message: i.message,
      code: i.code,
    }));
    throw new AppError(400, "VALIDATION_ERROR", `Invalid config for platform ${provider.platform}`, details);
  }
  const value = parsed.data as Record<string, unknown>;
  const allowed = parseAllowedHosts(env.ALLOWED_OUTBOUND_HOSTS);
  for (const field of ["base_url", ...(provider.urlFields ?? [])]) {
    const url = value[field];
    if (typeof url !== "string") continue;
    const check = checkOutboundUrl(url, allowed);
    if (!check.ok) {
      // The URL may embed a credential (a webhook token): name the field, not the value.
      throw new AppError(
        400,
        "VALIDATION_ERROR",
        `config.${field} is not an allowed outbound URL: ${check.reason.replace(url, "the URL")}`,
        [{ path: `config.${field}`, location: "json", message: "not an allowed outbound URL" }],
      );
    }
  }
  return value;
}

async function seal(env: Env, orgId: string, id: string, config: Record<string, unknown>) {
  try {
    const ciphertext = await encryptSecret(env, JSON.stringify(config), connectionAad(orgId, id));
    return { key_id: blobKeyId(ciphertext), ciphertext };
  } catch (err) {
    if (err instanceof SecretError) throw new AppError(503, "ENCRYPTION_NOT_CONFIGURED", err.message);
    throw err;
  }
}

/**
 * Decrypts a connection's config. A blob sealed with a previous key is re-sealed with the current one on the way.
 * Fails closed: an unreadable blob marks the connection `error` and throws; nothing falls back to plaintext.
 */
export async function openConnection(env: Env, row: SealedConnectionRow): Promise<Record<string, unknown>> {
  const aad = connectionAad(row.org_id, row.id);
  let plaintext: string;
  try {
    plaintext = await decryptSecret(env, row.ciphertext, aad);
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    const message = `The connection's credentials cannot be decrypted (${err.code}); save them again`;
    await setConnectionStatus(env.DB, row.org_id, row.id, "error", message, isoNow(), "used");
    throw new AppError(500, "CONNECTION_UNREADABLE", message);
  }
  const config = JSON.parse(plaintext) as Record<string, unknown>;
  if (needsReencryption(env, row.ciphertext)) {
    const sealed = await seal(env, row.org_id, row.id, config);
    await updateConnectionRow(env.DB, row.org_id, row.id, sealed);
  }
  return config;
}

/** The org's connections (id, name, platform, status), oldest first. */
export async function listConnectionSummaries(env: Env, orgId: string) {
  return connectionSummaries(env.DB, orgId);
}

export async function requireConnection(env: Env, orgId: string, id: string): Promise<SealedConnectionRow> {
  const row = await getConnectionRow(env.DB, orgId, id);
  if (!row) throw notFound("Connection");
  return row;
}

export async function createConnection(
  env: Env,
  orgId: string,
  actor: string,
  input: { platform: string; name: string; config: unknown },
): Promise<SealedConnectionRow> {
  const provider = requireProvider(input.platform);
  const config = validateConfig(env, provider, input.config);
  if ((await countConnections(env.DB, orgId)) >= LIMITS.MAX_CONNECTIONS_PER_ORG) {
    throw new AppError(409, "LIMIT_REACHED", `An organization may have at most ${LIMITS.MAX_CONNECTIONS_PER_ORG} connections`);
  }
  const id = newId();
  const now = isoNow();
  const row: SealedConnectionRow = {
    id,
    org_id: orgId,
    platform: provider.platform,
    name: input.name,
    status: "active",
    error_message: null,
    public_config: maskConfig(provider, config),
    ...(await seal(env, orgId, id, config)),
    created_at: now,
    updated_at: now,
    created_by: actor,
    last_tested_at: null,
    last_used_at: null,
  };
  await insertConnection(env.DB, row);
  return row;
}

/**
 * Merges a config patch over the stored config: MASK keeps the stored value, `null` removes a key, a nested
 * object is merged into the stored one unless its `type` changes (then it replaces it).
 */
export function mergeConfig(stored: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...stored };
  for (const [k, v] of Object.entries(patch)) {
    const before = stored[k];
    if (v === MASK) continue;
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(before) && (v.type === undefined || v.type === before.type)) out[k] = mergeConfig(before, v);
    else out[k] = v;
  }
  return out;
}

/**
 * A change of any URL field moves where the stored credentials are sent: refused (400 SECRETS_REQUIRED, naming each
 * missing field) unless the patch carries every secret of the resulting config again, in plain text. Whoever can
 * send the secrets could have created the connection; whoever cannot must not be able to redirect them.
 */
export function requireSecretsForUrlChange(
  provider: AnyProvider,
  stored: Record<string, unknown>,
  next: Record<string, unknown>,
  patch: Record<string, unknown>,
): void {
  const changed = connectionUrlFields(provider).filter((f) => getAt(stored, f) !== getAt(next, f));
  if (changed.length === 0) return;
  const missing = provider.secretFields.filter((f) => {
    if (typeof getAt(next, f) !== "string") return false;
    const sent = getAt(patch, f);
    return typeof sent !== "string" || sent === MASK;
  });
  if (missing.length === 0) return;
  throw new AppError(
    400,
    "SECRETS_REQUIRED",
    `Changing ${changed.map((f) => `config.${f}`).join(", ")} sends this connection's credentials elsewhere: ` +
      `send ${missing.map((f) => `config.${f}`).join(", ")} again in the same request`,
    missing.map((f) => ({ path: `config.${f}`, location: "json", message: "required when a URL field changes" })),
  );
}

/**
 * PATCH: `config` is merged over the stored one key by key (a masked value or an omitted key keeps the stored
 * secret, `null` removes an optional key) and validated whole. New credentials reset the status to `active`.
 * A changed URL field needs every secret in the same request (requireSecretsForUrlChange).
 */
export async function updateConnection(
  env: Env,
  orgId: string,
  id: string,
  patch: { name?: string; status?: ConnectionStatus; config?: Record<string, unknown> },
): Promise<SealedConnectionRow> {
  const row = await requireConnection(env, orgId, id);
  const provider = requireProvider(row.platform);
  const changes: Parameters<typeof updateConnectionRow>[3] = { updated_at: isoNow(), name: patch.name, status: patch.status };
  if (patch.status === "active") changes.error_message = null;
  if (patch.config) {
    const stored = await openConnection(env, row);
    const config = validateConfig(env, provider, mergeConfig(stored, patch.config));
    requireSecretsForUrlChange(provider, stored, config, patch.config);
    Object.assign(changes, { public_config: maskConfig(provider, config), ...(await seal(env, orgId, id, config)) });
    changes.status = patch.status ?? "active";
    if (changes.status === "active") changes.error_message = null;
  }
  await updateConnectionRow(env.DB, orgId, id, changes);
  return requireConnection(env, orgId, id);
}

export async function deleteConnection(env: Env, orgId: string, id: string): Promise<void> {
  if (!(await deleteConnectionRow(env.DB, orgId, id))) throw notFound("Connection");
}

export interface TestResult {
  success: boolean;
  platform: string;
  message: string;
  details: Record<string, unknown>;
  http_status: number | null;
  error_kind: string | null;
  duration_ms: number;
}

/** Runs the provider's auth check against a config (saved or not). */
export async function runAuthCheck(env: Env, provider: AnyProvider, config: Record<string, unknown>): Promise<TestResult> {
  const secrets = secretValues(provider, config);
  const started = Date.now();
  const requester = createRequester({
    apiRoot: typeof config.base_url === "string" ? config.base_url : provider.apiRoot(config),
    allowedHosts: env.ALLOWED_OUTBOUND_HOSTS,
    secrets,
  });
  let result: ProviderResult<Record<string, unknown>>;
  try {
    result = await provider.authCheck({ config, request: requester.request, now: Date.now() });
  } catch (err) {
    if (!(err instanceof TransportFailure)) throw err;
    result = { success: false, kind: err.kind, error: err.message };
  }
  const duration_ms = Date.now() - started;
  if (result.success) {
    return {
      success: true,
      platform: provider.platform,
      message: "Connection works",
      details: scrub(result.data, secrets),
      http_status: result.status ?? null,
      error_kind: null,
      duration_ms,
    };
  }
  return {
    success: false,
    platform: provider.platform,
    message: scrub(result.error, secrets),
    details: result.vendor_code !== undefined ? { vendor_code: result.vendor_code } : {},
    http_status: result.status ?? null,
    error_kind: result.kind,
    duration_ms,
  };
}

/** Tests a saved connection and records the outcome in its status. */
export async function testConnection(
  env: Env,
  orgId: string,
  id: string,
): Promise<{ result: TestResult; row: SealedConnectionRow }> {
  const row = await requireConnection(env, orgId, id);
  const provider = requireProvider(row.platform);
  const result = await runAuthCheck(env, provider, await openConnection(env, row));
  const status: ConnectionStatus = result.success ? "active" : result.error_kind === "expired" ? "expired" : "error";
  await setConnectionStatus(env.DB, orgId, id, status, result.success ? null : result.message, isoNow(), "tested");
  return { result, row: await requireConnection(env, orgId, id) };
}

/** Tests a config before it is saved: nothing is stored. */
export async function testConfig(env: Env, platform: string, config: unknown): Promise<TestResult> {
  const provider = requireProvider(platform);
  return runAuthCheck(env, provider, validateConfig(env, provider, config));
}

/** Re-seals every connection of the org that a previous key sealed; unreadable ones are reported, not changed. */
export async function reencryptConnections(
  env: Env,
  orgId: string,
): Promise<{ reencrypted: number; failed: string[]; key_id: string }> {
  if (!env.ENCRYPTION_KEY) throw new AppError(503, "ENCRYPTION_NOT_CONFIGURED", "No ENCRYPTION_KEY is configured");
  const current = keyIdOf(keyMaterial(env.ENCRYPTION_KEY));
  let after = "";
  let reencrypted = 0;
  const failed: string[] = [];
  for (;;) {
    const rows = await rowsSealedWithOtherKeys(env.DB, orgId, current, after, 50);
    if (rows.length === 0) break;
    for (const row of rows) {
      after = row.id;
      try {
        const plaintext = await decryptSecret(env, row.ciphertext, connectionAad(orgId, row.id));
        const sealed = await seal(env, orgId, row.id, JSON.parse(plaintext) as Record<string, unknown>);
        await updateConnectionRow(env.DB, orgId, row.id, sealed);
        reencrypted++;
      } catch (err) {
        if (!(err instanceof SecretError)) throw err;
        failed.push(row.id);
      }
    }
  }
  return { reencrypted, failed, key_id: current };
}
