import { describe, expect, it } from "vitest";
import { signGithub, signStandardWebhook, signStripe } from "../../src/engine/webhook-signatures";
import { call } from "../helpers";
import { SECRET, captureEvents, nowSeconds, webhookFlow } from "./support";

/**
 * Property-style: 500 deliveries, each a valid one with exactly one thing tampered, through the HTTP
 * endpoint. None may be accepted and nothing may be enqueued; the untampered originals are accepted.
 */

const sent = captureEvents();
const enc = new TextEncoder();
const TOTAL = 500;

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof rng>;

interface Delivery {
  kind: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

function flipBodyBit(r: Rng, body: Uint8Array): Uint8Array {
  const out = body.slice();
  out[r.int(out.length)] ^= 1 << r.int(8);
  return out;
}

/** Flips one bit of one character, avoiding characters a header value cannot carry (NUL, CR, LF). */
function flipStringBit(r: Rng, s: string, from = 0): string {
  for (;;) {
    const i = from + r.int(s.length - from);
    const c = s.charCodeAt(i) ^ (1 << r.int(7));
    if (c === 0 || c === 10 || c === 13 || c === 32 || c === 9) continue;
    return s.slice(0, i) + String.fromCharCode(c) + s.slice(i + 1);
  }
}

async function hmacBase64(secret: string, text: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret.slice("whsec_".length)), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
  return btoa(String.fromCharCode(...mac));
}

async function standardDelivery(r: Rng, i: number): Promise<Delivery> {
  const id = `msg_${i}`;
  const ts = nowSeconds();
  const text = JSON.stringify({ i, amount: r.int(10_000), note: "tamper me" });
  const body = enc.encode(text);
  const sig = await signStandardWebhook(SECRET, id, ts, text);
  const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig };
  const kind = r.pick(["body", "signature", "skew", "malformed-ts", "missing", "version", "secret", "id"] as const);
  switch (kind) {
    case "body":
      return { kind, body: flipBodyBit(r, body), headers };
    case "signature":
      return { kind, body, headers: { ...headers, "webhook-signature": flipStringBit(r, sig) } };
    case "skew": {
      const skewed = ts + r.pick([-1, 1]) * (301 + r.int(3600));
      return {
        kind,
        body,
        headers: {
          ...headers,
          "webhook-timestamp": String(skewed),
          "webhook-signature": await signStandardWebhook(SECRET, id, skewed, text),
        },
      };
    }
    case "malformed-ts": {
      // Signed over the malformed value itself, so only the timestamp check can refuse it.
      const bad = r.pick([`${ts}abc`, `${ts}.0`, `+${ts}`, `${ts}e0`, `0x${ts.toString(16)}`, `${ts * 1000}`, `${ts}-1`, "abc"]);
      return {
        kind,
        body,
        headers: {
          ...headers,
          "webhook-timestamp": bad,
          "webhook-signature": `v1,${await hmacBase64(SECRET, `${id}.${bad}.${text}`)}`,
        },
      };
    }
    case "missing": {
      const drop = r.pick(["webhook-id", "webhook-timestamp", "webhook-signature"] as const);
      const { [drop]: _dropped, ...rest } = headers;
      return { kind: `${kind}:${drop}`, body, headers: rest };
    }
    case "version": {
      const b64 = sig.slice(3);
      return {
        kind,
        body,
        headers: {
          ...headers,
          "webhook-signature": r.pick([`v2,${b64}`, `v0,${b64}`, `V1,${b64}`, `v1a,${b64}`, `v1=${b64}`, b64, `v1,${b64}x`]),
        },
      };
    }
    case "secret":
      return {
        kind,
        body,
        headers: { ...headers, "webhook-signature": await signStandardWebhook("whsec_d3Jvbmctc2VjcmV0LWJ5dGVz", id, ts, text) },
      };
    case "id":
      return { kind, body, headers: { ...headers, "webhook-id": `${id}x` } };
  }
}

async function stripeDelivery(r: Rng, i: number, secret: string): Promise<Delivery> {
  const t = nowSeconds();
  const text = JSON.stringify({ id: `evt_${i}`, type: "invoice.paid" });
  const body = enc.encode(text);
  const header = await signStripe(secret, t, text);
  const kind = r.pick(["body", "signature", "skew", "malformed-ts", "missing", "v0"] as const);
  switch (kind) {
    case "body":
      return { kind, body: flipBodyBit(r, body), headers: { "stripe-signature": header } };
    case "signature":
      return { kind, body, headers: { "stripe-signature": flipStringBit(r, header, header.indexOf("v1=") + 3) } };
    case "skew": {
      const skewed = t + r.pick([-1, 1]) * (301 + r.int(3600));
      return { kind, body, headers: { "stripe-signature": await signStripe(secret, skewed, text) } };
    }
    case "malformed-ts":
      return { kind, body, headers: { "stripe-signature": header.replace(`t=${t}`, `t=${t}abc`) } };
    case "missing":
      return { kind, body, headers: {} };
    case "v0":
      return { kind, body, headers: { "stripe-signature": header.replace("v1=", "v0=") } };
  }
}

async function githubDelivery(r: Rng, i: number, secret: string): Promise<Delivery> {
  const text = JSON.stringify({ ref: "refs/heads/main", i });
  const body = enc.encode(text);
  const header = await signGithub(secret, text);
  const base = { "x-github-delivery": `d-${i}` };
  const kind = r.pick(["body", "signature", "missing", "sha1"] as const);
  switch (kind) {
    case "body":
      return { kind, body: flipBodyBit(r, body), headers: { ...base, "x-hub-signature-256": header } };
    case "signature":
      return { kind, body, headers: { ...base, "x-hub-signature-256": flipStringBit(r, header) } };
    case "missing":
      return { kind, body, headers: base };
    case "sha1":
      return { kind, body, headers: { ...base, "x-hub-signature-256": header.replace("sha256=", "sha1=") } };
  }
}

describe("tampered deliveries", () => {
  it(`${TOTAL} tampered deliveries → 0 accepted, nothing enqueued`, async () => {
    const stripeSecret = "whsec_stripe_tamper_secret";
    const githubSecret = "github-tamper-secret-01";
    // Ten endpoints, 50 deliveries each, in an org of their own: the per-endpoint and per-org rate limits
    // (wrangler.toml RL_TRIGGER_*) count every call, and this test is about signatures, not 429s.
    const org = `org-tamper-${crypto.randomUUID().slice(0, 8)}`;
    const hooks: { id: string; path: string }[] = [];
    for (let k = 0; k < 10; k++) {
      const config =
        k < 7
          ? { secret: SECRET }
          : k < 9
            ? { secret: stripeSecret, provider: "stripe" }
            : { secret: githubSecret, provider: "github" };
      hooks.push(await webhookFlow(config, {}, org));
    }
    const [standard, stripe, github] = [hooks[0], hooks[7], hooks[9]];
    const r = rng(0x5eed);
    const statuses = new Map<number, number>();
    const kinds = new Map<string, number>();
    const deliveries: { which: string; hook: { id: string; path: string }; d: Delivery; i: number }[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const which = i % 10 < 7 ? "standard" : i % 10 < 9 ? "stripe" : "github";
      const d =
        which === "standard"
          ? await standardDelivery(r, i)
          : which === "stripe"
            ? await stripeDelivery(r, i, stripeSecret)
            : await githubDelivery(r, i, githubSecret);
      deliveries.push({ which, hook: hooks[i % 10], d, i });
      kinds.set(`${which}:${d.kind}`, (kinds.get(`${which}:${d.kind}`) ?? 0) + 1);
    }
    // A few at a time: the order does not matter, every delivery is independent.
    for (let start = 0; start < TOTAL; start += 10) {
      await Promise.all(
        deliveries.slice(start, start + 10).map(async ({ which, hook, d, i }) => {
          const res = await call("POST", `/v1/webhooks/${hook.id}/${hook.path}`, {
            token: null,
            rawBody: d.body,
            headers: { "content-type": "application/json", ...d.headers },
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${which} ${d.kind} #${i}: ${JSON.stringify(res.body)}`).toBe(401);
        }),
      );
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: TOTAL });
    expect(sent).toHaveLength(0);
    // Every tampering kind was exercised.
    expect([...kinds.keys()].filter((k) => k.startsWith("standard:")).length).toBeGreaterThanOrEqual(10);
    expect([...kinds.keys()].filter((k) => k.startsWith("stripe:")).length).toBe(6);
    expect([...kinds.keys()].filter((k) => k.startsWith("github:")).length).toBe(4);

    // Control: the same harness accepts untampered deliveries.
    const text = '{"ok":true}';
    const ts = nowSeconds();
    const ok = [
      [
        standard,
        {
          "webhook-id": "ok-1",
          "webhook-timestamp": String(ts),
          "webhook-signature": await signStandardWebhook(SECRET, "ok-1", ts, text),
        },
      ],
      [stripe, { "stripe-signature": await signStripe(stripeSecret, ts, text) }],
      [github, { "x-hub-signature-256": await signGithub(githubSecret, text) }],
    ] as const;
    for (const [hook, headers] of ok) {
      const res = await call("POST", `/v1/webhooks/${hook.id}/${hook.path}`, {
        token: null,
        rawBody: text,
        headers: { "content-type": "application/json", ...headers },
      });
      expect(res.status).toBe(202);
    }
    expect(sent).toHaveLength(3);
  }, 120_000);
});
