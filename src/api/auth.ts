import type { MiddlewareHandler } from "hono";
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Env } from "../env";
import { forbidden, unauthorized } from "../lib/errors";
import { sha256Hex, timingSafeEqual } from "../lib/crypto";
import { isoNow } from "../lib/time";
import { apiKeyTouchDue, findApiKeyForAuth, touchApiKey } from "../store/api-keys";
import { isOrgDeleted } from "../store/organizations";
import { authFailureGate, recordAuthFailure } from "./rate-limit";
import type { AppEnv } from "./context";
import { SCOPES, hasScope, type Principal, type Scope } from "../lib/principal";

/** Organization ids are opaque strings; this keeps them printable and bounded. */
export const ORG_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const DEFAULT_ORG_ID = "default";
export const API_KEY_PREFIX = "ak_";

const jwksCache = new Map<string, JWTVerifyGetKey>();

function bearerOrKey(headers: Headers): string | null {
  const key = headers.get("x-key");
  if (key) return key.trim();
  const auth = headers.get("authorization");
  if (!auth) return null;
  const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
  return m ? m[1].trim() : null;
}

function parseScopes(claim: unknown): Set<Scope> {
  const raw = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return new Set(raw.filter((s): s is Scope => typeof s === "string" && (SCOPES as readonly string[]).includes(s)));
}

async function verifyJwt(env: Env, token: string): Promise<JWTPayload | null> {
  const options = {
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
  };
  try {
    if (env.JWT_SECRET) {
      const key = new TextEncoder().encode(env.JWT_SECRET);
      return (await jwtVerify(token, key, { ...options, algorithms: ["HS256"] })).payload;
    }
    if (env.JWT_JWKS_URL) {
      let jwks = jwksCache.get(env.JWT_JWKS_URL);
      if (!jwks) {
        jwks = createRemoteJWKSet(new URL(env.JWT_JWKS_URL));
        jwksCache.set(env.JWT_JWKS_URL, jwks);
      }
      return (await jwtVerify(token, jwks, { ...options, algorithms: ["RS256", "ES256", "EdDSA"] })).payload;
    }
  } catch {
    return null;
  }
  return null;
}

/** Resolves the caller from the request, or null when the credentials are missing or invalid. */
export async function resolvePrincipal(env: Env, headers: Headers): Promise<Principal | null> {
  const token = bearerOrKey(headers);
  if (!token) return null;

  if (env.ADMIN_API_KEY && timingSafeEqual(token, env.ADMIN_API_KEY)) {
    const orgId = headers.get("x-org-id")?.trim() || DEFAULT_ORG_ID;
    if (!ORG_ID_PATTERN.test(orgId)) return null;
    return { kind: "superuser", orgId, actor: "superuser", userId: "superuser", scopes: new Set(SCOPES) };
  }

  if (token.startsWith(API_KEY_PREFIX)) {
    const row = await findApiKeyForAuth(env.DB, await sha256Hex(token));
    if (!row || row.revoked_at) return null;
    // A deleted org's keys were revoked with it; the org check also refuses a key created after the deletion.
    if (row.org_deleted) return null;
    // The row says whether the last-used time is due (at most once a minute): no write otherwise.
    const now = isoNow();
    if (apiKeyTouchDue(row.last_used_at, now)) await touchApiKey(env.DB, row.id, now);
    return {
      kind: "api_key",
      orgId: row.org_id,
      actor: `api_key:${row.id}`,
      userId: `api_key:${row.id}`,
      scopes: new Set(row.scopes),
      apiKeyId: row.id,
    };
  }

  if (token.split(".").length === 3) {
    const payload = await verifyJwt(env, token);
    const orgId = payload?.org_id;
    if (!payload || typeof orgId !== "string" || !ORG_ID_PATTERN.test(orgId) || !payload.sub) return null;
    if (await isOrgDeleted(env.DB, orgId)) return null;
    return {
      kind: "jwt",
      orgId,
      actor: `user:${payload.sub}`,
      userId: payload.sub,
      email: typeof payload.email === "string" ? payload.email : undefined,
      scopes: parseScopes(payload.scope ?? payload.scp),
    };
  }
  return null;
}

/**
 * Rejects the request with 401 unless it carries valid credentials; stores the principal. A client whose
 * bad credentials passed the limit gets 429 with Retry-After instead, for any credentials, until it ends.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const blocked = authFailureGate(c);
  if (blocked) return blocked;
  const principal = await resolvePrincipal(c.env, c.req.raw.headers);
  if (!principal) {
    const limited = bearerOrKey(c.req.raw.headers) ? await recordAuthFailure(c) : null;
    if (limited) return limited;
    throw unauthorized();
  }
  c.set("principal", principal);
  await next();
};

/** Route middleware: 403 unless the principal holds `scope`. Runs before input validation. */
export const requireScope =
  (scope: Scope): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    if (!hasScope(c.get("principal"), scope)) throw forbidden(`This operation needs the scope ${scope}`);
    await next();
  };
