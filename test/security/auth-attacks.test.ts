import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWTPayload } from "jose";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { resolvePrincipal } from "../../src/api/auth";
import type { Env } from "../../src/env";
import { toBase64Url } from "../../src/lib/crypto";
import { BASE, apiKey, call } from "../helpers";
import { mulberry32 } from "./prng";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 item 4: attacks on authentication answer 401. test/api/auth.test.ts already covers expired (by
 * minutes), not-yet-valid (by an hour), wrong-key, tampered-payload and `alg: none` tokens, missing claims
 * and revoked keys; this file adds the edge cases and the attacks it lacks. Rate limiting of repeated bad
 * credentials: rate-limits.test.ts.
 */

const nowSec = () => Math.floor(Date.now() / 1000);
const secret = () => new TextEncoder().encode(env.JWT_SECRET!);
const b64 = (o: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(o)));
const CLAIMS = { org_id: "atk-org", sub: "user-1", scope: "automations:read automations:write" };
const bearer = (t: string) => new Headers({ authorization: `Bearer ${t}` });
const figures = { flippedTokens: 0, flippedAccepted: 0 };

afterAll(() => console.log(`auth figures: ${JSON.stringify(figures)}`));

async function hs256(claims: JWTPayload, opts: { exp?: number; nbf?: number; iss?: string; aud?: string } = {}) {
  let b = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt();
  b = b.setExpirationTime(opts.exp ?? nowSec() + 600);
  if (opts.nbf !== undefined) b = b.setNotBefore(opts.nbf);
  if (opts.iss !== undefined) b = b.setIssuer(opts.iss);
  if (opts.aud !== undefined) b = b.setAudience(opts.aud);
  return b.sign(secret());
}

/** Calls the Worker's app with another env (e.g. JWT_ISSUER set), as the deployed Worker would run with it. */
async function callWith(overrides: Partial<Env>, path: string, token: string): Promise<number> {
  const ctx = createExecutionContext();
  const res = await createApp().fetch(new Request(`${BASE}${path}`, { headers: bearer(token) }), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  await res.body?.cancel();
  return res.status;
}

describe("JWT edge cases (HS256 with JWT_SECRET)", () => {
  it("refuses a token expired by one second, and accepts it one second before", async () => {
    expect((await call("GET", "/v1/automation/flows", { token: await hs256(CLAIMS, { exp: nowSec() - 1 }) })).status).toBe(401);
    expect((await call("GET", "/v1/automation/flows", { token: await hs256(CLAIMS, { exp: nowSec() + 2 }) })).status).toBe(200);
  });

  it("refuses a token whose nbf is a few seconds ahead", async () => {
    expect((await call("GET", "/v1/automation/flows", { token: await hs256(CLAIMS, { nbf: nowSec() + 5 }) })).status).toBe(401);
    expect((await call("GET", "/v1/automation/flows", { token: await hs256(CLAIMS, { nbf: nowSec() - 5 }) })).status).toBe(200);
  });

  it("refuses alg none in every spelling, and other HMAC algorithms than HS256", async () => {
    const claims = { ...CLAIMS, exp: nowSec() + 600 };
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      for (const sig of ["", toBase64Url(new Uint8Array([0]))]) {
        const token = `${b64({ alg, typ: "JWT" })}.${b64(claims)}.${sig}`;
        expect({ alg, sig, status: (await call("GET", "/v1/automation/flows", { token })).status }).toEqual({
          alg,
          sig,
          status: 401,
        });
      }
    }
    const hs512 = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime(nowSec() + 600)
      .sign(secret());
    expect((await call("GET", "/v1/automation/flows", { token: hs512 })).status).toBe(401);
  });

  it("refuses a wrong iss or aud when JWT_ISSUER / JWT_AUDIENCE are configured", async () => {
    const conf = { JWT_ISSUER: "https://idp.example/", JWT_AUDIENCE: "automation-engine" };
    const good = await hs256(CLAIMS, { iss: conf.JWT_ISSUER, aud: conf.JWT_AUDIENCE });
    expect(await callWith(conf, "/v1/automation/flows", good)).toBe(200);
    const cases = {
      wrongIss: await hs256(CLAIMS, { iss: "https://evil.example/", aud: conf.JWT_AUDIENCE }),
      wrongAud: await hs256(CLAIMS, { iss: conf.JWT_ISSUER, aud: "another-service" }),
      noIss: await hs256(CLAIMS, { aud: conf.JWT_AUDIENCE }),
      noAud: await hs256(CLAIMS, { iss: conf.JWT_ISSUER }),
      issCase: await hs256(CLAIMS, { iss: "HTTPS://IDP.EXAMPLE/", aud: conf.JWT_AUDIENCE }),
    };
    for (const [name, token] of Object.entries(cases)) {
      expect({ name, status: await callWith(conf, "/v1/automation/flows", token) }).toEqual({ name, status: 401 });
    }
    // Not configured: iss/aud are not checked (the deployed default).
    expect(await callWith({ JWT_ISSUER: "", JWT_AUDIENCE: "" }, "/v1/automation/flows", cases.wrongIss)).toBe(200);
  });

  it("refuses every token with one flipped bit (header, payload or signature)", async () => {
    const token = await hs256(CLAIMS);
    expect(await resolvePrincipal(env, bearer(token))).not.toBeNull();
    const parts = token
      .split(".")
      .map((p) => Uint8Array.from(atob(p.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)));
    const rand = mulberry32(0x5eed);
    let accepted = 0;
    const N = 300;
    for (let i = 0; i < N; i++) {
      const part = i % 3;
      const bytes = parts[part].slice();
      const bit = Math.floor(rand() * bytes.length * 8);
      bytes[bit >> 3] ^= 1 << (bit & 7);
      const tampered = parts.map((p, j) => toBase64Url(j === part ? bytes : p)).join(".");
      if (await resolvePrincipal(env, bearer(tampered))) accepted++;
    }
    figures.flippedTokens += N;
    figures.flippedAccepted += accepted;
    expect(accepted).toBe(0);
    // And through the API, a flipped bit in the last signature byte.
    const sig = parts[2].slice();
    sig[sig.length - 1] ^= 0x01;
    const flipped = `${token.split(".").slice(0, 2).join(".")}.${toBase64Url(sig)}`;
    expect((await call("GET", "/v1/automation/flows", { token: flipped })).status).toBe(401);
  });
});

describe("algorithm confusion on the JWKS path", () => {
  afterEach(() => vi.restoreAllMocks());

  it("refuses HS256 tokens signed with the published public key (as JWK, PEM or modulus)", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const url = `https://idp.test/${crypto.randomUUID()}/jwks.json`;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) =>
      (input instanceof Request ? input.url : String(input)) === url
        ? Response.json({ keys: [jwk] })
        : new Response("no", { status: 404 }),
    );
    const jwksEnv = { DB: env.DB, JWT_JWKS_URL: url } as Env;
    const rs = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setExpirationTime(nowSec() + 60)
      .sign(privateKey);
    expect(await resolvePrincipal(jwksEnv, bearer(rs))).toMatchObject({ kind: "jwt", orgId: "atk-org" });

    const enc = new TextEncoder();
    const publicKeyBytes = {
      jwkJson: enc.encode(JSON.stringify(jwk)),
      pem: enc.encode(await exportSPKI(publicKey)),
      modulus: Uint8Array.from(atob(jwk.n!.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    };
    for (const [name, key] of Object.entries(publicKeyBytes)) {
      const forged = await new SignJWT(CLAIMS)
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .setExpirationTime(nowSec() + 60)
        .sign(key);
      expect({ name, principal: await resolvePrincipal(jwksEnv, bearer(forged)) }).toEqual({ name, principal: null });
    }
    // The other way round: with JWT_SECRET, an RS256 token is refused (HS256 only).
    expect(await resolvePrincipal(env, bearer(rs))).toBeNull();
  });
});

describe("API keys", () => {
  it("refuses a revoked key at once, and a key with one character changed", async () => {
    const key = await apiKey("atk-keys", ["automations:read"]);
    expect((await call("GET", "/v1/automation/flows", { token: key })).status).toBe(200);
    const last = key.at(-1) === "A" ? "B" : "A";
    expect((await call("GET", "/v1/automation/flows", { token: key.slice(0, -1) + last })).status).toBe(401);
    const id = (await call("GET", "/v1/api-keys", { org: "atk-keys" })).body.results[0].id;
    expect((await call("DELETE", `/v1/api-keys/${id}`, { org: "atk-keys" })).status).toBe(200);
    expect((await call("GET", "/v1/automation/flows", { token: key })).status).toBe(401);
  });
});

describe("a deleted organization", () => {
  it("answers 401 to its API keys and JWTs, and disables its flows; other orgs are untouched", async () => {
    const org = "atk-deleted";
    const created = await call("POST", "/v1/organizations", { body: { id: org, name: "To be deleted" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ id: org, name: "To be deleted", status: "active", deleted_at: null });
    const key = await apiKey(org, ["automations:read", "automations:write"]);
    const other = await apiKey("atk-survivor", ["automations:read"]);
    const jwt = await hs256({ ...CLAIMS, org_id: org });
    const flow = await call("POST", "/v1/automation/flows", {
      token: key,
      body: { flow_name: "f", triggers: [{ type: "manual" }], actions: [] },
    });
    expect(flow.status).toBe(201);
    expect((await call("GET", "/v1/automation/flows", { token: jwt })).status).toBe(200);

    const del = await call("DELETE", `/v1/organizations/${org}`);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body).toMatchObject({ organization: { id: org, status: "deleted" }, revoked_api_keys: 1, disabled_flows: 1 });

    expect((await call("GET", "/v1/automation/flows", { token: key })).status).toBe(401);
    expect((await call("GET", "/v1/automation/flows", { token: jwt })).status).toBe(401);
    expect((await call("GET", "/v1/automation/flows", { token: other })).status).toBe(200);
    // A key created afterwards (the superuser can still act in the org) is refused too.
    const late = await apiKey(org, ["automations:read"]);
    expect((await call("GET", "/v1/automation/flows", { token: late })).status).toBe(401);
    // The data is kept for the operator, the flow is disabled with a reason.
    const stored = await call("GET", `/v1/automation/flows/${flow.body.id}`, { org });
    expect(stored.body.enabled).toBe(false);
    expect(stored.body.disable_details).toMatchObject({ disabled_by: "system", reason: `Organization ${org} was deleted` });
    // Deleted ids are not reused, and a second delete finds nothing.
    expect((await call("POST", "/v1/organizations", { body: { id: org } })).status).toBe(409);
    expect((await call("DELETE", `/v1/organizations/${org}`)).status).toBe(404);
    expect((await call("GET", `/v1/organizations/${org}`)).body).toMatchObject({ id: org, status: "deleted" });
  });

  it("can delete an org that was never registered (org ids need no registration)", async () => {
    const org = "atk-implicit";
    const key = await apiKey(org, ["automations:read"]);
    expect((await call("GET", `/v1/organizations/${org}`)).status).toBe(404);
    const del = await call("DELETE", `/v1/organizations/${org}`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ organization: { id: org, name: org, status: "deleted" }, revoked_api_keys: 1 });
    expect((await call("GET", "/v1/automation/flows", { token: key })).status).toBe(401);
  });

  it("lets only the superuser manage organizations, with clear 4xx on bad input", async () => {
    const orgAdmin = await apiKey("atk-admin", ["admin"]);
    expect((await call("POST", "/v1/organizations", { token: orgAdmin, body: { id: "atk-x" } })).status).toBe(403);
    expect((await call("DELETE", "/v1/organizations/atk-admin", { token: orgAdmin })).status).toBe(403);
    expect((await call("GET", "/v1/organizations/atk-admin", { token: orgAdmin })).status).toBe(403);
    expect((await call("GET", "/v1/organizations/atk-admin", { token: null })).status).toBe(401);
    for (const body of [{ id: "a b" }, { id: "" }, { id: "x".repeat(65) }, { id: "ok", name: "" }, { id: "ok", extra: 1 }, {}]) {
      const res = await call("POST", "/v1/organizations", { body });
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: "VALIDATION_ERROR" });
    }
    expect(
      (await call("POST", "/v1/organizations", { rawBody: "{", headers: { "content-type": "application/json" } })).status,
    ).toBe(400);
    expect((await call("DELETE", "/v1/organizations/a%20b")).status).toBe(400);
    expect((await call("GET", "/v1/organizations/atk-never")).status).toBe(404);
  });
});
