import { createHash, hkdfSync } from "node:crypto";
import { toBase64Url } from "./crypto";

/**
 * Secrets at rest (webhook signing secrets, connection credentials): AES-256-GCM through WebCrypto.
 *
 * Blob format: `v1.<kid>.<base64url iv>.<base64url ciphertext+tag>`. `kid` is the first 8 hex characters
 * of SHA-256 of the raw key, so a blob names the key that sealed it and old keys listed in
 * `ENCRYPTION_KEYS_PREVIOUS` keep decrypting after a rotation. The associated data (AAD) binds a blob to
 * its owner (e.g. `org:flow:<id>:trigger:<id>`): a blob copied to another record does not decrypt.
 * Every failure throws SecretError; nothing falls back to plaintext.
 */

/** The key vars of the Worker's Env (env.ts) that seal and open secrets; lib/ takes them as a parameter. */
interface SecretKeys {
  ENCRYPTION_KEY?: string;
  ENCRYPTION_KEYS_PREVIOUS?: string;
}

export type SecretErrorCode = "not_configured" | "malformed" | "unknown_key" | "decrypt_failed";

export class SecretError extends Error {
  constructor(
    readonly code: SecretErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SecretError";
  }
}

const VERSION = "v1";
const IV_BYTES = 12;
const encoder = new TextEncoder();
// Fixed HKDF salt/info: a passphrase always yields the same key, and keys derived here are not reused elsewhere.
const HKDF_SALT = encoder.encode("automation-engine/secrets");
const HKDF_INFO = encoder.encode("aes-256-gcm v1");

interface KeyEntry {
  kid: string;
  raw: Uint8Array;
  key?: Promise<CryptoKey>;
}

interface Keyring {
  current: KeyEntry | null;
  byKid: Map<string, KeyEntry>;
}

function fromBase64(text: string): Uint8Array | null {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(std)) return null;
  try {
    const bin = atob(std.padEnd(Math.ceil(std.length / 4) * 4, "="));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** A base64 (or base64url) string of exactly 32 bytes is the key itself; any other string is a passphrase. */
export function keyMaterial(secret: string): Uint8Array {
  const decoded = fromBase64(secret.trim());
  if (decoded && decoded.length === 32) return decoded;
  return new Uint8Array(hkdfSync("sha256", encoder.encode(secret), HKDF_SALT, HKDF_INFO, 32));
}

export const keyIdOf = (raw: Uint8Array): string => createHash("sha256").update(raw).digest("hex").slice(0, 8);

const keyrings = new Map<string, Keyring>();

function keyring(env: SecretKeys): Keyring {
  const cacheKey = `${env.ENCRYPTION_KEY ?? ""}\n${env.ENCRYPTION_KEYS_PREVIOUS ?? ""}`;
  let ring = keyrings.get(cacheKey);
  if (ring) return ring;
  const entry = (secret: string): KeyEntry => {
    const raw = keyMaterial(secret);
    return { kid: keyIdOf(raw), raw };
  };
  const current = env.ENCRYPTION_KEY ? entry(env.ENCRYPTION_KEY) : null;
  const byKid = new Map<string, KeyEntry>();
  const previous = (env.ENCRYPTION_KEYS_PREVIOUS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const e of previous.map(entry)) byKid.set(e.kid, e);
  if (current) byKid.set(current.kid, current);
  ring = { current, byKid };
  keyrings.set(cacheKey, ring);
  return ring;
}

function cryptoKey(entry: KeyEntry): Promise<CryptoKey> {
  entry.key ??= crypto.subtle.importKey("raw", entry.raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return entry.key;
}

/** True when secrets can be encrypted (an ENCRYPTION_KEY is configured). */
export const canEncryptSecrets = (env: Pick<SecretKeys, "ENCRYPTION_KEY">): boolean => Boolean(env.ENCRYPTION_KEY);

/** Seals `plaintext` with the current key; `aad` names the owner the blob belongs to. */
export async function encryptSecret(env: SecretKeys, plaintext: string, aad: string): Promise<string> {
  const current = keyring(env).current;
  if (!current) throw new SecretError("not_configured", "No ENCRYPTION_KEY is configured, so secrets cannot be stored");
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
    await cryptoKey(current),
    encoder.encode(plaintext),
  );
  return `${VERSION}.${current.kid}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

function parseBlob(blob: string): { kid: string; iv: Uint8Array; data: Uint8Array } {
  const parts = blob.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretError("malformed", "Not an encrypted secret of a known format");
  const iv = fromBase64(parts[2]);
  const data = fromBase64(parts[3]);
  if (!/^[0-9a-f]{8}$/.test(parts[1]) || !iv || iv.length !== IV_BYTES || !data || data.length < 16) {
    throw new SecretError("malformed", "Not an encrypted secret of a known format");
  }
  return { kid: parts[1], iv, data };
}

/** Opens a blob sealed by encryptSecret with the same `aad`; throws SecretError on any mismatch. */
export async function decryptSecret(env: SecretKeys, blob: string, aad: string): Promise<string> {
  const { kid, iv, data } = parseBlob(blob);
  const entry = keyring(env).byKid.get(kid);
  if (!entry) throw new SecretError("unknown_key", `The secret was encrypted with key ${kid}, which is not configured`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
      await cryptoKey(entry),
      data,
    );
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(plain);
  } catch {
    throw new SecretError("decrypt_failed", "The secret could not be decrypted (wrong key, tampered data or wrong owner)");
  }
}

/** True when the blob was not sealed with the current key (or is unreadable): re-encrypt it after a rotation. */
export function needsReencryption(env: SecretKeys, blob: string): boolean {
  const current = keyring(env).current;
  if (!current) return false;
  try {
    return parseBlob(blob).kid !== current.kid;
  } catch {
    return true;
  }
}

/** Decrypts with whichever configured key sealed the blob and seals it again with the current key. */
export async function reencryptSecret(env: SecretKeys, blob: string, aad: string): Promise<string> {
  return encryptSecret(env, await decryptSecret(env, blob, aad), aad);
}

/** The key id a blob names, e.g. for the `key_id` column next to it. */
export const blobKeyId = (blob: string): string => parseBlob(blob).kid;
