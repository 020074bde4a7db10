import { timingSafeEqual } from "../lib/crypto";
import { LIMITS } from "../lib/limits";

/**
 * Webhook signature schemes, pure (WebCrypto only, the clock passed in):
 *   standard  Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.ts.body">`
 *   stripe    `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "ts.body">[,v1=…]`
 *   github    `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (GitHub signs no timestamp)
 *   slack     `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:ts:body">`, `X-Slack-Request-Timestamp: <ts>` (an agent's
 *             Events API request URL)
 * Every verifier takes several secrets (the current one and those still in a rotation's overlap) and
 * accepts when any of them produced any of the signatures sent.
 */

export type WebhookProvider = "standard" | "stripe" | "github";

export type VerifyFailure = "missing_header" | "malformed_timestamp" | "timestamp_out_of_range" | "no_matching_signature";

export type VerifyResult = { ok: true; secret_index: number } | { ok: false; reason: VerifyFailure; message: string };

/** Anything with `get(name)`: a Headers object, or a lookup built in a test. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** Request headers carrying signatures: verified, never shown to templates. */
export const SIGNATURE_HEADERS: readonly string[] = [
  "webhook-signature",
  "x-slack-signature",
  "stripe-signature",
  "x-hub-signature",
  "x-hub-signature-256",
];

const encoder = new TextEncoder();
const TIMESTAMP = /^[0-9]{1,12}$/;

const fail = (reason: VerifyFailure, message: string): VerifyResult => ({ ok: false, reason, message });

function base64Decode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return null;
  try {
    return Uint8Array.from(atob(text.padEnd(Math.ceil(text.length / 4) * 4, "=")), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function base64Encode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Key bytes of a Standard Webhooks secret: `whsec_<base64>` is the base64-decoded part (as the reference
 * libraries do); any other string, or a `whsec_` secret whose rest is not base64, is its UTF-8 bytes.
 */
export function standardWebhookKey(secret: string): Uint8Array {
  if (secret.startsWith("whsec_")) {
    const decoded = base64Decode(secret.slice("whsec_".length));
    if (decoded && decoded.length > 0) return decoded;
  }
  return encoder.encode(secret);
}

const toBytes = (body: string | Uint8Array): Uint8Array => (typeof body === "string" ? encoder.encode(body) : body);

function concat(prefix: string, body: Uint8Array): Uint8Array {
  const head = encoder.encode(prefix);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

/** Seconds since the epoch from a header value: digits only (`1614265330abc` and `1.5e9` are refused). */
function parseTimestamp(value: string): number | null {
  return TIMESTAMP.test(value) ? Number(value) : null;
}

function checkTimestamp(value: string, now: number, toleranceSeconds: number): VerifyResult | null {
  const ts = parseTimestamp(value.trim());
  if (ts === null) return fail("malformed_timestamp", "The signature timestamp is not a whole number of seconds");
  if (Math.abs(Math.floor(now / 1000) - ts) > toleranceSeconds) {
    return fail("timestamp_out_of_range", `The signature timestamp is more than ${toleranceSeconds} seconds away from now`);
  }
  return null;
}

/** Compares each computed signature with each one sent, without stopping early on a match. */
function firstMatch(expected: string[], sent: string[]): number {
  let found = -1;
  expected.forEach((e, i) => {
    for (const s of sent) if (timingSafeEqual(e, s) && found < 0) found = i;
  });
  return found;
}

const noMatch = () => fail("no_matching_signature", "No signature matches the request");

/** The `webhook-signature` value for an outbound request: `v1,<base64>`. `timestamp` is in seconds. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): Promise<string> {
  const mac = await hmacSha256(standardWebhookKey(secret), concat(`${id}.${timestamp}.`, toBytes(body)));
  return `v1,${base64Encode(mac)}`;
}

/** Standard Webhooks: only `v1` signatures count; the timestamp must be within the tolerance both ways. */
export async function verifyStandardWebhook(
  secrets: readonly string[],
  headers: HeaderSource,
  body: Uint8Array,
  now: number,
  toleranceSeconds: number = LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS,
): Promise<VerifyResult> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!id || !timestamp || !signature) {
    return fail("missing_header", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  const bad = checkTimestamp(timestamp, now, toleranceSeconds);
  if (bad) return bad;
  const sent = signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => s.slice(3));
  if (sent.length === 0) return noMatch();
  const expected = await Promise.all(secrets.map((s) => signStandardWebhook(s, id, Number(timestamp.trim()), body)));
  const i = firstMatch(
    expected.map((e) => e.slice(3)),
    sent,
  );
  return i >= 0 ? { ok: true, secret_index: i } : noMatch();
}

/** The `Stripe-Signature` value for a payload (tests, and senders that speak Stripe's scheme). */
export async function signStripe(secret: string, timestamp: number, body: string | Uint8Array): Promise<string> {
  return `t=${timestamp},v1=${hex(await hmacSha256(encoder.encode(secret), concat(`${timestamp}.`, toBytes(body))))}`;
}

/** Stripe: the whole secret (`whsec_…` included) is the HMAC key, as in Stripe's libraries; any `v1` may match. */
export async function verifyStripeSignature(
  secrets: readonly string[],
  header: string | null,
  body: Uint8Array,
  now: number,
  toleranceSeconds: number = LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS,
): Promise<VerifyResult> {
  if (!header) return fail("missing_header", "Stripe-Signature is required");
  let t: string | undefined;
  const sent: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && t === undefined) t = value;
    else if (key === "v1") sent.push(value);
  }
  if (t === undefined) return fail("missing_header", "Stripe-Signature has no timestamp (t=)");
  const bad = checkTimestamp(t, now, toleranceSeconds);
  if (bad) return bad;
  if (sent.length === 0) return noMatch();
  const expected = await Promise.all(secrets.map(async (s) => hex(await hmacSha256(encoder.encode(s), concat(`${t}.`, body)))));
  const i = firstMatch(expected, sent);
  return i >= 0 ? { ok: true, secret_index: i } : noMatch();
}

/** The `X-Hub-Signature-256` value GitHub sends for a payload. */
export async function signGithub(secret: string, body: string | Uint8Array): Promise<string> {
  return `sha256=${hex(await hmacSha256(encoder.encode(secret), toBytes(body)))}`;
}

/** GitHub: `sha256=<hex>` of the raw body; the legacy SHA-1 `X-Hub-Signature` is not accepted. */
export async function verifyGithubSignature(
  secrets: readonly string[],
  header: string | null,
  body: Uint8Array,
): Promise<VerifyResult> {
  if (!header) return fail("missing_header", "X-Hub-Signature-256 is required");
  const expected = await Promise.all(secrets.map((s) => signGithub(s, body)));
  const i = firstMatch(expected, [header.trim()]);
  return i >= 0 ? { ok: true, secret_index: i } : noMatch();
}

/**
 * The header holding the signature of a scheme that signs no timestamp (so a captured call verifies again later),
 * or null when the scheme binds each call to a time and an id (Standard Webhooks, Stripe).
 */
export function replayableSignatureHeader(provider: WebhookProvider): string | null {
  return provider === "github" ? "x-hub-signature-256" : null;
}

/** The `X-Slack-Signature` value Slack sends for a payload (its signing secret, the request timestamp in seconds). */
export async function signSlack(secret: string, timestamp: number, body: string | Uint8Array): Promise<string> {
  return `v0=${hex(await hmacSha256(encoder.encode(secret), concat(`v0:${timestamp}:`, toBytes(body))))}`;
}

/** Slack's request signing: the timestamp within the tolerance of `now` (ms), then the `v0` signature of any secret. */
export async function verifySlackSignature(
  secrets: readonly string[],
  headers: HeaderSource,
  body: Uint8Array,
  now: number,
  toleranceSeconds: number = LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS,
): Promise<VerifyResult> {
  const sent = headers.get("x-slack-signature");
  const ts = headers.get("x-slack-request-timestamp");
  if (!sent || !ts) return fail("missing_header", "X-Slack-Signature and X-Slack-Request-Timestamp are required");
  const bad = checkTimestamp(ts, now, toleranceSeconds);
  if (bad) return bad;
  const expected = await Promise.all(secrets.map((s) => signSlack(s, Number(ts.trim()), body)));
  const i = firstMatch(expected, [sent.trim()]);
  return i >= 0 ? { ok: true, secret_index: i } : noMatch();
}

/** Verifies a request by the provider's scheme against any of `secrets`; `now` in milliseconds. */
export function verifyWebhookSignature(
  provider: WebhookProvider,
  secrets: readonly string[],
  headers: HeaderSource,
  body: Uint8Array,
  now: number,
): Promise<VerifyResult> {
  if (secrets.length === 0) return Promise.resolve(noMatch());
  switch (provider) {
    case "standard":
      return verifyStandardWebhook(secrets, headers, body, now);
    case "stripe":
      return verifyStripeSignature(secrets, headers.get("stripe-signature"), body, now);
    case "github":
      return verifyGithubSignature(secrets, headers.get("x-hub-signature-256"), body);
  }
}
