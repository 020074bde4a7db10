import { describe, expect, it } from "vitest";
import {
  signGithub,
  signStandardWebhook,
  signStripe,
  standardWebhookKey,
  verifyGithubSignature,
  verifyStandardWebhook,
  verifyStripeSignature,
  verifyWebhookSignature,
} from "../../src/engine/webhook-signatures";

const enc = (s: string) => new TextEncoder().encode(s);

// The Standard Webhooks test vector, as published in the spec repository's reference libraries
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts "sign function works").
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const AT_VECTOR = VECTOR.timestamp * 1000;

const standard = (over: Record<string, string | null> = {}) => {
  const h = new Headers({
    "webhook-id": VECTOR.id,
    "webhook-timestamp": String(VECTOR.timestamp),
    "webhook-signature": VECTOR.signature,
  });
  for (const [k, v] of Object.entries(over)) {
    if (v === null) h.delete(k);
    else h.set(k, v);
  }
  return h;
};

describe("Standard Webhooks", () => {
  it("reproduces and verifies the published test vector", async () => {
    expect(await signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(await verifyStandardWebhook([VECTOR.secret], standard(), enc(VECTOR.body), AT_VECTOR)).toEqual({
      ok: true,
      secret_index: 0,
    });
  });

  it("accepts one matching v1 signature among several, and ignores other versions", async () => {
    const multi = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,${VECTOR.signature.slice(3)} ${VECTOR.signature}`;
    expect(
      (await verifyStandardWebhook([VECTOR.secret], standard({ "webhook-signature": multi }), enc(VECTOR.body), AT_VECTOR)).ok,
    ).toBe(true);
    const onlyV2 = `v2,${VECTOR.signature.slice(3)}`;
    expect(
      await verifyStandardWebhook([VECTOR.secret], standard({ "webhook-signature": onlyV2 }), enc(VECTOR.body), AT_VECTOR),
    ).toMatchObject({ ok: false, reason: "no_matching_signature" });
  });

  it("accepts timestamps up to 300 s away either way and refuses 301 s", async () => {
    const body = enc(VECTOR.body);
    for (const skew of [-300, 0, 300]) {
      expect((await verifyStandardWebhook([VECTOR.secret], standard(), body, AT_VECTOR + skew * 1000)).ok).toBe(true);
    }
    for (const skew of [-301, 301]) {
      expect(await verifyStandardWebhook([VECTOR.secret], standard(), body, AT_VECTOR + skew * 1000)).toMatchObject({
        ok: false,
        reason: "timestamp_out_of_range",
      });
    }
  });

  it("refuses malformed timestamps, missing headers, a wrong secret and a changed body", async () => {
    const body = enc(VECTOR.body);
    for (const ts of ["1614265330abc", "1614265330.0", "-1614265330", "1.6e9", "", "0x60367c32"]) {
      const res = await verifyStandardWebhook([VECTOR.secret], standard({ "webhook-timestamp": ts }), body, AT_VECTOR);
      expect(res.ok, ts).toBe(false);
    }
    for (const h of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      expect(await verifyStandardWebhook([VECTOR.secret], standard({ [h]: null }), body, AT_VECTOR)).toMatchObject({
        ok: false,
        reason: "missing_header",
      });
    }
    expect((await verifyStandardWebhook(["whsec_AAAAAAAAAAAAAAAAAAAAAAAA"], standard(), body, AT_VECTOR)).ok).toBe(false);
    expect((await verifyStandardWebhook([VECTOR.secret], standard(), enc('{"test": 2432232315}'), AT_VECTOR)).ok).toBe(false);
    expect((await verifyStandardWebhook([VECTOR.secret], standard({ "webhook-id": "msg_other" }), body, AT_VECTOR)).ok).toBe(
      false,
    );
    expect((await verifyStandardWebhook([], standard(), body, AT_VECTOR)).ok).toBe(false);
  });

  it("tries every secret (rotation overlap) and says which one matched", async () => {
    const res = await verifyStandardWebhook(
      ["whsec_bmV3LXNlY3JldC1ieXRlcw==", VECTOR.secret],
      standard(),
      enc(VECTOR.body),
      AT_VECTOR,
    );
    expect(res).toEqual({ ok: true, secret_index: 1 });
  });

  it("derives key bytes from whsec_<base64>, else from the UTF-8 text", () => {
    expect(standardWebhookKey("whsec_AQID")).toEqual(new Uint8Array([1, 2, 3]));
    expect(standardWebhookKey("plain-text-secret-123")).toEqual(enc("plain-text-secret-123"));
    // Not base64 after the prefix: the whole string is the key.
    expect(standardWebhookKey("whsec_not-base64-at-all!")).toEqual(enc("whsec_not-base64-at-all!"));
  });

  it("signs and verifies raw bytes that are not UTF-8", async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);
    const sig = await signStandardWebhook("plain-text-secret-123", "m1", 1700000000, bytes);
    const h = new Headers({ "webhook-id": "m1", "webhook-timestamp": "1700000000", "webhook-signature": sig });
    expect((await verifyStandardWebhook(["plain-text-secret-123"], h, bytes, 1700000000_000)).ok).toBe(true);
  });
});

describe("GitHub", () => {
  // GitHub's documented example ("Validating webhook deliveries"): secret, payload and expected signature.
  const secret = "It's a Secret to Everybody";
  const payload = "Hello, World!";
  const expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("reproduces and verifies GitHub's published X-Hub-Signature-256 example", async () => {
    expect(await signGithub(secret, payload)).toBe(expected);
    expect(await verifyGithubSignature([secret], expected, enc(payload))).toEqual({ ok: true, secret_index: 0 });
  });

  it("refuses a missing header, a wrong digest, a sha1 header and a changed payload", async () => {
    expect(await verifyGithubSignature([secret], null, enc(payload))).toMatchObject({ reason: "missing_header" });
    expect((await verifyGithubSignature([secret], expected.replace("757", "758"), enc(payload))).ok).toBe(false);
    expect((await verifyGithubSignature([secret], expected.replace("sha256=", "sha1="), enc(payload))).ok).toBe(false);
    expect((await verifyGithubSignature([secret], expected.toUpperCase(), enc(payload))).ok).toBe(false);
    expect((await verifyGithubSignature([secret], expected, enc("Hello, World?"))).ok).toBe(false);
  });
});

describe("Stripe", () => {
  // Computed independently with Node's crypto.createHmac("sha256", secret).update(`${t}.${payload}`).
  const secret = "whsec_stripe_example_secret_123";
  const t = 1492774577;
  const payload = '{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}';
  const v1 = "6081ec4a5211bbba73a42aa5826505b473d9f736cf854e3cb9550e1862cc775e";
  const at = t * 1000;

  it("matches an independently computed signature and accepts any of several v1", async () => {
    expect(await signStripe(secret, t, payload)).toBe(`t=${t},v1=${v1}`);
    expect(await verifyStripeSignature([secret], `t=${t},v1=${v1}`, enc(payload), at)).toEqual({ ok: true, secret_index: 0 });
    const several = `t=${t},v1=${"0".repeat(64)},v0=${"1".repeat(64)},v1=${v1}`;
    expect((await verifyStripeSignature([secret], several, enc(payload), at)).ok).toBe(true);
  });

  it("refuses stale, malformed or missing timestamps, v0-only headers and wrong secrets", async () => {
    const body = enc(payload);
    expect((await verifyStripeSignature([secret], `t=${t},v1=${v1}`, body, at + 300_000)).ok).toBe(true);
    expect(await verifyStripeSignature([secret], `t=${t},v1=${v1}`, body, at + 301_000)).toMatchObject({
      reason: "timestamp_out_of_range",
    });
    expect(await verifyStripeSignature([secret], `t=${t},v1=${v1}`, body, at - 301_000)).toMatchObject({
      reason: "timestamp_out_of_range",
    });
    expect(await verifyStripeSignature([secret], `t=${t}abc,v1=${v1}`, body, at)).toMatchObject({
      reason: "malformed_timestamp",
    });
    expect(await verifyStripeSignature([secret], `v1=${v1}`, body, at)).toMatchObject({ reason: "missing_header" });
    expect(await verifyStripeSignature([secret], null, body, at)).toMatchObject({ reason: "missing_header" });
    expect(await verifyStripeSignature([secret], `t=${t},v0=${v1}`, body, at)).toMatchObject({ reason: "no_matching_signature" });
    expect((await verifyStripeSignature(["whsec_other_secret_0000"], `t=${t},v1=${v1}`, body, at)).ok).toBe(false);
  });

  it("is selected by verifyWebhookSignature from the Stripe-Signature header", async () => {
    const h = new Headers({ "stripe-signature": `t=${t},v1=${v1}` });
    expect((await verifyWebhookSignature("stripe", [secret], h, enc(payload), at)).ok).toBe(true);
    expect((await verifyWebhookSignature("standard", [secret], h, enc(payload), at)).ok).toBe(false);
    expect((await verifyWebhookSignature("github", [secret], h, enc(payload), at)).ok).toBe(false);
  });
});
