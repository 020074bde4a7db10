import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { toBase64Url } from "../../src/lib/crypto";
import { SecretError, decryptSecret, encryptSecret, keyIdOf, keyMaterial } from "../../src/lib/secrets";
import { actionSecretOwner, flowSecretAad, readFlowSecret } from "../../src/store/flow-secrets";
import { ADMIN_KEY, BASE, call } from "../helpers";
import { SINK } from "../support/engine";
import { mulberry32 } from "./prng";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 item 8, secrets at rest (lib/secrets.ts: AES-256-GCM, `v1.<kid>.<iv>.<ciphertext+tag>`, AAD naming
 * org and owner): a known-answer test, 1,000 tampered blobs of which none decrypts, blobs moved to another
 * org or owner that do not decrypt (the API fails closed), and a key rotation after which the old key can be
 * removed. The canary scan of API responses, logs and storage is secrets-canary.test.ts.
 */

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: ArrayBuffer | Uint8Array) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const unb64u = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const figures = { tampered: 0, decrypted: 0, byCode: {} as Record<string, number>, rotated: 0, readableAfterRotation: 0 };

afterAll(() => console.log(`secrets figures: ${JSON.stringify(figures)}`));

describe("known answers", () => {
  afterEach(() => vi.restoreAllMocks());

  it("AES-256-GCM of the platform matches the GCM specification's test case 16 (with AAD)", async () => {
    const key = await crypto.subtle.importKey(
      "raw",
      hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
      "AES-GCM",
      false,
      ["encrypt", "decrypt"],
    );
    const params = {
      name: "AES-GCM",
      iv: hex("cafebabefacedbaddecaf888"),
      additionalData: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
    };
    const plain =
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    const sealed = toHex(await crypto.subtle.encrypt(params, key, hex(plain)));
    expect(sealed).toBe(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
        "76fc6ece0f4e1768cddf8853bb2d551b",
    );
    expect(toHex(await crypto.subtle.decrypt(params, key, hex(sealed)))).toBe(plain);
  });

  // The expected blob was computed with Node's crypto (OpenSSL), an implementation independent of WebCrypto here.
  const KAT = {
    env: { ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }, // bytes 0x00..0x1f
    plaintext: "canary: correct horse battery staple",
    aad: "org-kat:flow:f1:trigger:t1",
    blob: "v1.630dcd29.AAECAwQFBgcICQoL.JGO4erec-DvuLuX51IoMTeu59UeVWz0dTBOA92RJc8ZgYMKZ2poEy6uqrKSWqVGnenBlYg",
  };

  it("seals a known plaintext, with a known IV and AAD, into the known blob", async () => {
    vi.spyOn(crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      const bytes = array as unknown as Uint8Array;
      for (let i = 0; i < bytes.length; i++) bytes[i] = i;
      return array;
    });
    expect(await encryptSecret(KAT.env, KAT.plaintext, KAT.aad)).toBe(KAT.blob);
  });

  it("opens the known blob, and derives the known key and key id from a passphrase", async () => {
    expect(await decryptSecret(KAT.env, KAT.blob, KAT.aad)).toBe(KAT.plaintext);
    expect(keyIdOf(keyMaterial(KAT.env.ENCRYPTION_KEY))).toBe("630dcd29");
    const derived = keyMaterial("correct horse battery staple");
    expect(toHex(derived)).toBe("30b13ce1090da333d385c2a3f646479328f2c316a0dd3a279a82601fcc91f744");
    expect(keyIdOf(derived)).toBe("555b8f74");
  });
});

describe("tampering: 1,000 random bit flips", () => {
  it("decrypts none of them (ciphertext, IV, tag or associated data)", async () => {
    const e = { ENCRYPTION_KEY: env.ENCRYPTION_KEY };
    const aad = "org-flip:flow:f1:trigger:t1";
    const blob = await encryptSecret(e, "a secret worth 1000 tries, long enough to span blocks", aad);
    const [v, kid, ivText, dataText] = blob.split(".");
    const iv = unb64u(ivText);
    const data = unb64u(dataText);
    const ct = data.slice(0, data.length - 16);
    const tag = data.slice(data.length - 16);
    const rand = mulberry32(0x00c0ffee);
    const flip = (bytes: Uint8Array, bits = bytes.length * 8) => {
      const out = bytes.slice();
      const bit = Math.floor(rand() * bits);
      out[bit >> 3] ^= 1 << (bit & 7);
      return out;
    };
    const regions = ["ciphertext", "iv", "tag", "aad"] as const;
    const counts: Record<string, number> = {};
    let decrypted = 0;
    for (let i = 0; i < 1000; i++) {
      const region = regions[i % 4];
      let tampered = blob;
      let tamperedAad = aad;
      if (region === "ciphertext") tampered = [v, kid, ivText, toBase64Url(new Uint8Array([...flip(ct), ...tag]))].join(".");
      if (region === "tag") tampered = [v, kid, ivText, toBase64Url(new Uint8Array([...ct, ...flip(tag)]))].join(".");
      if (region === "iv") tampered = [v, kid, toBase64Url(flip(iv)), dataText].join(".");
      if (region === "aad") {
        // Low 7 bits of one character: the AAD stays ASCII, so exactly one bit of its bytes differs.
        const at = Math.floor(rand() * aad.length);
        const ch = aad.charCodeAt(at) ^ (1 << Math.floor(rand() * 7));
        tamperedAad = aad.slice(0, at) + String.fromCharCode(ch) + aad.slice(at + 1);
      }
      try {
        await decryptSecret(e, tampered, tamperedAad);
        decrypted++;
      } catch (err) {
        expect(err).toBeInstanceOf(SecretError);
        const code = (err as SecretError).code;
        counts[`${region}:${code}`] = (counts[`${region}:${code}`] ?? 0) + 1;
      }
    }
    figures.tampered = 1000;
    figures.decrypted = decrypted;
    figures.byCode = counts;
    expect(decrypted).toBe(0);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(await decryptSecret(e, blob, aad)).toMatch(/^a secret worth/);
  });
});

/** Creates a flow with a signed webhook trigger and a signed call_webhook action; returns ids. */
async function signedFlow(org: string, path: string, secret: string, actionSecret: string) {
  const res = await call("POST", "/v1/automation/flows", {
    org,
    body: {
      flow_name: path,
      triggers: [{ id: "hook", type: "webhook", configuration: { path, secret } }],
      actions: [{ id: "send", type: "call_webhook", config: { url: `${SINK}/${path}`, secret: actionSecret } }],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const secretRow = (org: string, flowId: string, owner: string) =>
  env.DB.prepare(`SELECT key_id, ciphertext FROM flow_secrets WHERE org_id = ? AND flow_id = ? AND trigger_id = ?`)
    .bind(org, flowId, owner)
    .first<{ key_id: string; ciphertext: string }>();

async function rejects(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof SecretError ? err.code : String(err);
  }
  return "resolved";
}

describe("a ciphertext moved to another org, flow or owner does not decrypt", () => {
  it("for flow secrets: the API fails closed (503) instead of accepting or sending anything", async () => {
    const a = await signedFlow("move-a", "move-a", "whsec_secret-of-org-a-000001", "action-secret-of-a-000001");
    const b = await signedFlow("move-b", "move-b", "whsec_secret-of-org-b-000002", "action-secret-of-b-000002");
    const a2 = await signedFlow("move-a", "move-a2", "whsec_secret-of-a2-00000003", "action-secret-of-a2-00003");
    const blobA = (await secretRow("move-a", a, "hook"))!.ciphertext;
    const aadOf = (org: string, flow: string, owner: string) => flowSecretAad(org, flow, owner);
    expect(await decryptSecret(env, blobA, aadOf("move-a", a, "hook"))).toBe("whsec_secret-of-org-a-000001");
    for (const [org, flow, owner] of [
      ["move-b", b, "hook"],
      ["move-a", a2, "hook"],
      ["move-a", a, actionSecretOwner("send")],
      ["move-b", a, "hook"],
    ]) {
      expect({ to: `${org}/${flow}/${owner}`, code: await rejects(decryptSecret(env, blobA, aadOf(org, flow, owner))) }).toEqual({
        to: `${org}/${flow}/${owner}`,
        code: "decrypt_failed",
      });
    }
    // Move org A's blob into org B's row: B's webhook refuses every call (even correctly signed ones), nothing queued.
    await env.DB.prepare(`UPDATE flow_secrets SET ciphertext = ? WHERE org_id = 'move-b' AND flow_id = ? AND trigger_id = 'hook'`)
      .bind(blobA, b)
      .run();
    expect(await rejects(readFlowSecret(env as unknown as Env, "move-b", b, "hook"))).toBe("decrypt_failed");
    const { standardHeaders } = await import("../webhooks/support");
    for (const secret of ["whsec_secret-of-org-a-000001", "whsec_secret-of-org-b-000002"]) {
      const body = JSON.stringify({ n: 1 });
      const res = await call("POST", `/v1/webhooks/${b}/move-b`, {
        token: null,
        rawBody: body,
        headers: { "content-type": "application/json", ...(await standardHeaders(secret, body)) },
      });
      expect({ secret, status: res.status, code: res.body.error?.code }).toEqual({
        secret,
        status: 503,
        code: "SECRET_UNAVAILABLE",
      });
    }
  });

  it("for connection credentials (when the connections API is mounted)", async (ctx) => {
    if ((await call("GET", "/v1/connections", { org: "move-c" })).status !== 200) return ctx.skip();
    const { connectionAad } = await import("../../src/services/connections");
    const make = async (org: string, token: string) => {
      const res = await call("POST", "/v1/connections", {
        org,
        body: { platform: "http", name: "moved", config: { base_url: `${SINK}/conn`, auth: { type: "bearer", token } } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const x = await make("move-c", "token-of-connection-x-0001");
    const y = await make("move-c", "token-of-connection-y-0002");
    const z = await make("move-d", "token-of-connection-z-0003");
    const blobX = (await env.DB.prepare(`SELECT ciphertext FROM connections WHERE id = ?`)
      .bind(x)
      .first<{ ciphertext: string }>())!.ciphertext;
    expect(await rejects(decryptSecret(env, blobX, connectionAad("move-c", y)))).toBe("decrypt_failed");
    expect(await rejects(decryptSecret(env, blobX, connectionAad("move-d", z)))).toBe("decrypt_failed");
    expect(await rejects(decryptSecret(env, blobX, connectionAad("move-d", x)))).toBe("decrypt_failed");
    // Moved in D1: testing Y must not use X's token (the connection is marked unreadable instead).
    await env.DB.prepare(`UPDATE connections SET ciphertext = ? WHERE id = ?`).bind(blobX, y).run();
    const tested = await call("POST", `/v1/connections/${y}/test`, { org: "move-c" });
    expect(tested.status).not.toBe(200);
    expect(JSON.stringify(tested.body)).not.toContain("token-of-connection");
  });
});

describe("key rotation: re-encrypt everything, then remove the old key", () => {
  const OLD = env.ENCRYPTION_KEY!;
  const NEW = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const rotating = { ENCRYPTION_KEY: NEW, ENCRYPTION_KEYS_PREVIOUS: OLD } as Partial<Env>;
  const rotated = { ENCRYPTION_KEY: NEW, ENCRYPTION_KEYS_PREVIOUS: "" } as Partial<Env>;

  async function admin(overrides: Partial<Env>, method: string, path: string, body?: unknown) {
    const ctx = createExecutionContext();
    const res = await createApp().fetch(
      new Request(`${BASE}${path}`, {
        method,
        headers: { "x-key": ADMIN_KEY, "x-org-id": "rot-org", ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }),
      { ...env, ...overrides },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, body: (await res.json()) as any };
  }

  it("leaves every secret readable with the new key alone", async () => {
    // Secrets of several kinds, sealed with the old key: current and retired webhook secrets, action secrets.
    const secrets = new Map<string, { org: string; flow: string; owner: string; plaintext: string }>();
    for (let i = 0; i < 3; i++) {
      const org = `rot-${i}`;
      const id = await signedFlow(org, `rot-${i}`, `whsec_rotation-hook-secret-${i}`, `rotation-action-secret-${i}`);
      secrets.set(`${org}/hook`, { org, flow: id, owner: "hook", plaintext: `whsec_rotation-hook-secret-${i}` });
      secrets.set(`${org}/send`, { org, flow: id, owner: actionSecretOwner("send"), plaintext: `rotation-action-secret-${i}` });
      // Replacing the webhook secret keeps the old one verifying for the overlap window (a retired blob).
      const put = await call("PUT", `/v1/automation/flows/${id}`, {
        org,
        body: {
          flow_name: `rot-${i}`,
          triggers: [
            { id: "hook", type: "webhook", configuration: { path: `rot-${i}`, secret: `whsec_rotation-new-secret-${i}` } },
          ],
          actions: [{ id: "send", type: "call_webhook", config: { url: `${SINK}/rot` } }],
        },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      secrets.get(`${org}/hook`)!.plaintext = `whsec_rotation-new-secret-${i}`;
    }
    const before = await admin(rotating, "GET", "/v1/admin/secrets");
    expect(before.status).toBe(200);
    const oldKid = keyIdOf(keyMaterial(OLD));
    const total = before.body.stale as number;
    expect(before.body.by_key.flow_secrets_retired[oldKid]).toBeGreaterThanOrEqual(3);
    expect(total).toBeGreaterThanOrEqual(9);

    // Without re-encryption, dropping the old key would lose them.
    const lost = await rejects(readFlowSecret({ ...env, ...rotated } as Env, "rot-0", secrets.get("rot-0/hook")!.flow, "hook"));
    expect(lost).toBe("unknown_key");

    const report = await admin(rotating, "POST", "/v1/admin/secrets:reencrypt");
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    // The only blobs it cannot open are the ones moved on purpose above: reported, left as they are, still stale.
    const failed = report.body.failed as { org_id: string }[];
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.filter((f) => !f.org_id.startsWith("move-"))).toEqual([]);
    expect(report.body).toMatchObject({
      reencrypted: total - failed.length,
      stale: failed.length,
      current_key_id: keyIdOf(keyMaterial(NEW)),
    });
    figures.rotated = report.body.reencrypted;
    expect(JSON.stringify(report.body)).not.toContain("rotation-");

    // The old key is gone: every secret still opens, and the running API uses them.
    const newOnly = { ...env, ...rotated } as Env;
    for (const s of secrets.values()) {
      expect(await readFlowSecret(newOnly, s.org, s.flow, s.owner)).toBe(s.plaintext);
      figures.readableAfterRotation++;
    }
    const retired = await env.DB.prepare(
      `SELECT org_id, flow_id, trigger_id, ciphertext FROM flow_secrets_retired WHERE org_id LIKE 'rot-%'`,
    ).all<{
      org_id: string;
      flow_id: string;
      trigger_id: string;
      ciphertext: string;
    }>();
    for (const r of retired.results) {
      expect(await decryptSecret(newOnly, r.ciphertext, flowSecretAad(r.org_id, r.flow_id, r.trigger_id))).toMatch(
        /^whsec_rotation-hook-secret-/,
      );
      figures.readableAfterRotation++;
    }
    // Connections re-sealed by the same call open with the new key alone too.
    const conns = await env.DB.prepare(`SELECT id, org_id, ciphertext FROM connections WHERE key_id = ?`)
      .bind(keyIdOf(keyMaterial(NEW)))
      .all<{ id: string; org_id: string; ciphertext: string }>();
    if (conns.results.length > 0) {
      const { connectionAad } = await import("../../src/services/connections");
      for (const c of conns.results) {
        expect(JSON.parse(await decryptSecret(newOnly, c.ciphertext, connectionAad(c.org_id, c.id)))).toHaveProperty("base_url");
        figures.readableAfterRotation++;
      }
    }
    const { standardHeaders } = await import("../webhooks/support");
    const flow0 = secrets.get("rot-0/hook")!.flow;
    for (const secret of ["whsec_rotation-new-secret-0", "whsec_rotation-hook-secret-0"]) {
      const body = JSON.stringify({ rotated: true });
      const ctx = createExecutionContext();
      const queue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue<unknown>;
      const res = await createApp().fetch(
        new Request(`${BASE}/v1/webhooks/${flow0}/rot-0`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(await standardHeaders(secret, body)) },
          body,
        }),
        { ...newOnly, EVENTS_QUEUE: queue },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect({ secret, status: res.status }).toEqual({ secret, status: 202 });
    }
    const after = await admin(rotated, "GET", "/v1/admin/secrets");
    expect(after.body.stale).toBe(failed.length);
    expect(after.body.by_key.flow_secrets_retired).toEqual({ [keyIdOf(keyMaterial(NEW))]: expect.any(Number) });
  });

  it("reports a blob it cannot open and leaves it as it is; only the superuser may rotate", async () => {
    const id = await signedFlow("rot-bad", "rot-bad", "whsec_rotation-bad-secret-01", "rotation-bad-action-secret");
    const row = (await secretRow("rot-bad", id, "hook"))!;
    const broken = row.ciphertext.slice(0, -4) + (row.ciphertext.endsWith("AAAA") ? "BBBB" : "AAAA");
    await env.DB.prepare(
      `UPDATE flow_secrets SET ciphertext = ? WHERE org_id = 'rot-bad' AND flow_id = ? AND trigger_id = 'hook'`,
    )
      .bind(broken, id)
      .run();
    const report = await admin(
      { ENCRYPTION_KEY: NEW, ENCRYPTION_KEYS_PREVIOUS: OLD } as Partial<Env>,
      "POST",
      "/v1/admin/secrets:reencrypt",
    );
    const failed = report.body.failed as { org_id: string }[];
    expect(failed.filter((f) => !f.org_id.startsWith("move-"))).toEqual([
      { table: "flow_secrets", org_id: "rot-bad", id: `${id}/hook`, reason: "decrypt_failed" },
    ]);
    expect(report.body.stale).toBe(failed.length);
    expect((await secretRow("rot-bad", id, "hook"))!.ciphertext).toBe(broken);

    const { apiKey } = await import("../helpers");
    const orgAdmin = await apiKey("rot-org", ["admin"]);
    expect((await call("POST", "/v1/admin/secrets:reencrypt", { token: orgAdmin })).status).toBe(403);
    expect((await call("GET", "/v1/admin/secrets", { token: orgAdmin })).status).toBe(403);
    expect((await call("GET", "/v1/admin/secrets", { token: null })).status).toBe(401);
    const noKey = await admin({ ENCRYPTION_KEY: "" } as Partial<Env>, "GET", "/v1/admin/secrets");
    expect(noKey.status).toBe(503);
  });
});
