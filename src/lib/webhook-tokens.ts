import { randomToken } from "./crypto";

/**
 * URL tokens of webhook triggers: `POST /v1/webhooks/{flow_id}/{path}.{token}` where the call carries no signature
 * (Coherence's webhooks): knowing the URL is the credential, so the token is a secret. It is stored only as its
 * SHA-256 (store/webhook-tokens.ts) and compared in constant time; the trigger's stored `path` is the part before it.
 */

/** A token: 32-64 URL-safe characters (the generated ones are 43: 32 random bytes, base64url). */
export const WEBHOOK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,64}$/;

/** 32 random bytes, base64url: the secret part of a webhook URL. */
export const newWebhookToken = (): string => randomToken(32);

/** `<path>.<token>` of an inbound URL, split at its last dot; null when the last part is not a token. */
export function splitTokenPath(path: string): { path: string; token: string } | null {
  const dot = path.lastIndexOf(".");
  if (dot <= 0) return null;
  const token = path.slice(dot + 1);
  return WEBHOOK_TOKEN_PATTERN.test(token) ? { path: path.slice(0, dot), token } : null;
}

/** The earlier layout of a Coherence webhook: the 43-character token inside the trigger's stored path. */
const LEGACY_TOKEN_PATH = /^(.+)\.([A-Za-z0-9_-]{43})$/;

/**
 * The path and token of a webhook trigger stored in the earlier layout (`path: "<webhook_path>.<token>"`, unsigned,
 * no token of its own), or null. Such a trigger is upgraded on read: path without the token, the token hashed.
 */
export function legacyTokenPath(cfg: Record<string, unknown>): { path: string; token: string } | null {
  if (cfg.allow_unsigned !== true || cfg.secret_configured === true || cfg.token_configured === true) return null;
  const m = typeof cfg.path === "string" ? LEGACY_TOKEN_PATH.exec(cfg.path) : null;
  return m ? { path: m[1], token: m[2] } : null;
}
