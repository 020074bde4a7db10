import { env } from "cloudflare:test";
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolvePrincipal } from "../../src/api/auth";
import type { Env } from "../../src/env";
import { toBase64Url } from "../../src/lib/crypto";
import { ADMIN_KEY, apiKey, call } from "../helpers";
import { countingDb } from "../support/d1-count";

const secret = () => new TextEncoder().encode(env.JWT_SECRET!);
const nowSec = () => Math.floor(Date.now() / 1000);

async function jwt(claims: JWTPayload, opts: { key?: Uint8Array; exp?: number; nbf?: number } = {}): Promise<string> {
  let b = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt();
  b = b.setExpirationTime(opts.exp ?? nowSec() + 600);
  if (opts.nbf !== undefined) b = b.setNotBefore(opts.nbf);
  return b.sign(opts.key ?? secret());
}

const b64 = (o: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(o)));
const VALID = { org_id: "jwt-org", sub: "user-1", scope: "automations:read automations:write" };

describe("superuser (ADMIN_API_KEY)", () => {
  it("works via x-key and via Authorization: Bearer, in the org of x-org-id", async () => {
    const viaKey = await call("POST", "/v1/entities/contact", { org: "su-org", body: { name: "A" } });
    expect(viaKey.status).toBe(201);
    expect(viaKey.body._org).toBe("su-org");
    const viaBearer = await call("GET", `/v1/entities/contact/${viaKey.body._id}`, {
      token: ADMIN_KEY,
      headers: { "x-org-id": "su-org" },
    });
    expect(viaBearer.status).toBe(200);
  });

  it("acts in the org `default` without x-org-id", async () => {
    const created = await call("POST", "/v1/entities/contact", { token: ADMIN_KEY, body: { name: "D" } });
    expect(created.status).toBe(201);
    expect(created.body._org).toBe("default");
    const id = created.body._id;
    expect((await call("GET", `/v1/entities/contact/${id}`, { org: "default" })).status).toBe(200);
    expect((await call("GET", `/v1/entities/contact/${id}`, { org: "org-a" })).status).toBe(404);
  });

  it("refuses an invalid x-org-id and a wrong admin key with 401", async () => {
    for (const org of ["has space", "x".repeat(65), "a;b", "a/b"]) {
      const res = await call("GET", "/v1/entities/contact", { headers: { "x-key": ADMIN_KEY, "x-org-id": org }, token: null });
      expect({ org, status: res.status }).toEqual({ org, status: 401 });
    }
    const wrong = await call("GET", "/v1/entities/contact", { headers: { "x-key": `${ADMIN_KEY}x` }, token: null });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("UNAUTHORIZED");
  });
});

describe("missing and bad credentials", () => {
  it("answers 401 without credentials, with a malformed header and with an unknown token", async () => {
    expect((await call("GET", "/v1/entities/contact", { token: null })).status).toBe(401);
    expect((await call("GET", "/v1/entities/contact", { token: null, headers: { authorization: "Basic abc" } })).status).toBe(
      401,
    );
    expect((await call("GET", "/v1/entities/contact", { token: "not-a-key" })).status).toBe(401);
    expect((await call("POST", "/v1/entities/contact", { token: null, body: { a: 1 } })).status).toBe(401);
  });
});

describe("API keys", () => {
  it("refuses a bad key and a revoked key with 401", async () => {
    expect((await call("GET", "/v1/entities/contact", { token: "ak_doesnotexist" })).status).toBe(401);
    const created = await call("POST", "/v1/api-keys", { body: { name: "rev", scopes: ["automations:read"] } });
    const key = created.body.key as string;
    expect((await call("GET", "/v1/entities/contact", { token: key })).status).toBe(200);
    expect((await call("DELETE", `/v1/api-keys/${created.body.id}`)).status).toBe(200);
    expect((await call("GET", "/v1/entities/contact", { token: key })).status).toBe(401);
  });

  it("enforces scopes: read-only keys cannot write (403), write-only keys cannot read", async () => {
    const reader = await apiKey("org-a", ["automations:read"]);
    const writer = await apiKey("org-a", ["automations:write"]);
    const trigger = await apiKey("org-a", ["automations:trigger"]);
    const created = await call("POST", "/v1/entities/contact", { token: writer, body: { name: "W" } });
    expect(created.status).toBe(201);
    const id = created.body._id;
    expect(created.body._org).toBe("org-a");

    const denied = await call("POST", "/v1/entities/contact", { token: reader, body: { name: "R" } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("FORBIDDEN");
    expect((await call("PATCH", `/v1/entities/contact/${id}`, { token: reader, body: { a: 1 } })).status).toBe(403);
    expect((await call("DELETE", `/v1/entities/contact/${id}`, { token: reader })).status).toBe(403);
    expect((await call("GET", `/v1/entities/contact/${id}`, { token: reader })).status).toBe(200);
    expect((await call("GET", `/v1/entities/contact/${id}`, { token: writer })).status).toBe(403);
    expect((await call("GET", "/v1/entities/contact", { token: trigger })).status).toBe(403);
    // The scope check runs before validation: no scope, no hint about the body.
    expect((await call("POST", "/v1/entities/contact", { token: reader, body: [1] })).status).toBe(403);
  });

  it("costs one D1 read per request; the last-used time is written at most once a minute", async () => {
    const key = await apiKey("org-a", ["automations:read"]);
    const counter = { statements: 0, batches: 0 };
    const counted = { ...env, DB: countingDb(env.DB, counter) } as unknown as Env;
    const headers = new Headers({ authorization: `Bearer ${key}` });
    const lastUsed = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE org_id = 'org-a' ORDER BY created_at DESC LIMIT 1").first<{
        last_used_at: string | null;
      }>())!.last_used_at;
    expect(await lastUsed()).toBeNull();
    expect((await resolvePrincipal(counted, headers))?.orgId).toBe("org-a");
    // First use: the read, and the last-used write.
    expect(counter.statements).toBe(2);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    expect((await resolvePrincipal(counted, headers))?.orgId).toBe("org-a");
    expect(counter.statements).toBe(3);
    expect(await lastUsed()).toBe(first);

    // A minute later the time is written again.
    await env.DB.prepare("UPDATE api_keys SET last_used_at = ? WHERE last_used_at = ?")
      .bind(new Date(Date.now() - 61_000).toISOString(), first)
      .run();
    expect((await resolvePrincipal(counted, headers))?.orgId).toBe("org-a");
    expect(counter.statements).toBe(5);
    expect(Date.parse((await lastUsed())!)).toBeGreaterThan(Date.now() - 5_000);
  });

  it("refuses a key whose org was deleted (the same read says so)", async () => {
    const key = await apiKey("org-auth-gone", ["automations:read"]);
    expect((await resolvePrincipal(env as unknown as Env, new Headers({ authorization: `Bearer ${key}` })))?.orgId).toBe(
      "org-auth-gone",
    );
    await env.DB.prepare(
      "INSERT INTO organizations (id, name, status, created_at, created_by, deleted_at, deleted_by) VALUES ('org-auth-gone', 'x', 'deleted', ?, 'test', ?, 'test')",
    )
      .bind(new Date().toISOString(), new Date().toISOString())
      .run();
    expect(await resolvePrincipal(env as unknown as Env, new Headers({ authorization: `Bearer ${key}` }))).toBeNull();
  });

  it("acts in the key's own org, whatever x-org-id says", async () => {
    const keyB = await apiKey("org-b", ["automations:read", "automations:write"]);
    const rec = await call("POST", "/v1/entities/contact", { token: keyB, headers: { "x-org-id": "org-a" }, body: { n: 1 } });
    expect(rec.body._org).toBe("org-b");
  });
});

describe("JWT (HS256 with JWT_SECRET)", () => {
  it("accepts a valid token: org from org_id, actor from sub, scopes from scope", async () => {
    const token = await jwt(VALID);
    const created = await call("POST", "/v1/entities/contact", { token, body: { name: "J" } });
    expect(created.status).toBe(201);
    expect(created.body._org).toBe("jwt-org");
    expect((await call("GET", `/v1/entities/contact/${created.body._id}`, { token })).status).toBe(200);
    const principal = await resolvePrincipal(env, new Headers({ authorization: `Bearer ${token}` }));
    expect(principal).toMatchObject({ kind: "jwt", orgId: "jwt-org", actor: "user:user-1", userId: "user-1" });
    expect([...principal!.scopes].sort()).toEqual(["automations:read", "automations:write"]);
  });

  it("refuses expired, not-yet-valid and wrongly signed tokens with 401", async () => {
    const expired = await jwt(VALID, { exp: nowSec() - 120 });
    const future = await jwt(VALID, { nbf: nowSec() + 3600 });
    const wrongKey = await jwt(VALID, { key: new TextEncoder().encode("another-secret-0123456789abcdef0123456789") });
    const valid = await jwt(VALID);
    const [h, p] = valid.split(".");
    const tampered = `${h}.${b64({ ...VALID, org_id: "org-a" })}.${valid.split(".")[2]}`;
    for (const [name, token] of Object.entries({ expired, future, wrongKey, tampered, truncated: `${h}.${p}.` })) {
      const res = await call("GET", "/v1/entities/contact", { token });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
  });

  it("refuses an unsigned token (alg: none)", async () => {
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...VALID, exp: nowSec() + 600 })}.`;
    expect((await call("GET", "/v1/entities/contact", { token: none })).status).toBe(401);
    const noneSigned = `${none}${toBase64Url(new Uint8Array([1, 2, 3]))}`;
    expect((await call("GET", "/v1/entities/contact", { token: noneSigned })).status).toBe(401);
  });

  it("refuses tokens without org_id or sub, or with an invalid org_id", async () => {
    const { org_id: _o, ...noOrg } = VALID;
    const { sub: _s, ...noSub } = VALID;
    for (const [name, claims] of Object.entries({
      noOrg,
      noSub,
      badOrg: { ...VALID, org_id: "a b" },
      numOrg: { ...VALID, org_id: 5 },
    })) {
      const res = await call("GET", "/v1/entities/contact", { token: await jwt(claims) });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
  });

  it("answers 403 when the scope is missing", async () => {
    const readOnly = await jwt({ ...VALID, scope: "automations:read" });
    expect((await call("POST", "/v1/entities/contact", { token: readOnly, body: { a: 1 } })).status).toBe(403);
    const noScope = await jwt({ org_id: "jwt-org", sub: "u" });
    expect((await call("GET", "/v1/entities/contact", { token: noScope })).status).toBe(403);
    const unknownScope = await jwt({ ...VALID, scope: "everything root" });
    expect((await call("GET", "/v1/entities/contact", { token: unknownScope })).status).toBe(403);
    expect((await call("GET", "/v1/api-keys", { token: await jwt(VALID) })).status).toBe(403);
  });
});

describe("JWT via JWKS (JWT_JWKS_URL)", () => {
  afterEach(() => vi.restoreAllMocks());

  // The Worker under test has JWT_SECRET set, which takes precedence, so the JWKS path is exercised
  // by calling resolvePrincipal with an env that only has a JWKS URL; the JWKS is served by a stubbed
  // fetch, so no network is involved.
  it("verifies RS256 tokens against the key set and refuses tokens signed by another key", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const other = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const url = `https://idp.test/${crypto.randomUUID()}/jwks.json`;
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const target = input instanceof Request ? input.url : String(input);
      if (target !== url) return new Response("not found", { status: 404 });
      return Response.json({ keys: [jwk] });
    });
    const jwksEnv = { DB: env.DB, JWT_JWKS_URL: url } as Env;
    const sign = (key: CryptoKey, claims: JWTPayload = VALID) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setExpirationTime(nowSec() + 600)
        .sign(key);
    const headers = (t: string) => new Headers({ authorization: `Bearer ${t}` });

    const ok = await resolvePrincipal(jwksEnv, headers(await sign(privateKey)));
    expect(ok).toMatchObject({ kind: "jwt", orgId: "jwt-org", userId: "user-1" });
    expect(fetchSpy).toHaveBeenCalled();
    expect(await resolvePrincipal(jwksEnv, headers(await sign(other.privateKey)))).toBeNull();
    const expired = await new SignJWT(VALID)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setExpirationTime(nowSec() - 60)
      .sign(privateKey);
    expect(await resolvePrincipal(jwksEnv, headers(expired))).toBeNull();
    // An HS256 token is refused on the JWKS path even if it names the right kid.
    const hs = await new SignJWT(VALID)
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setExpirationTime(nowSec() + 60)
      .sign(secret());
    expect(await resolvePrincipal(jwksEnv, headers(hs))).toBeNull();
  });
});

describe("another org's ids are 404, exactly as unknown ids", () => {
  it("for records: GET, PATCH and DELETE", async () => {
    const theirs = await call("POST", "/v1/entities/contact", { org: "org-b", body: { name: "Theirs" } });
    const id = theirs.body._id;
    const unknown = crypto.randomUUID();
    const jwtA = await jwt({ ...VALID, org_id: "org-a" });
    const keyA = await apiKey("org-a", ["automations:read", "automations:write"]);
    for (const token of [undefined, jwtA, keyA]) {
      for (const [method, body] of [
        ["GET", undefined],
        ["PATCH", { name: "Mine" }],
        ["DELETE", undefined],
      ] as const) {
        const foreign = await call(method, `/v1/entities/contact/${id}`, { org: "org-a", token, body });
        const missing = await call(method, `/v1/entities/contact/${unknown}`, { org: "org-a", token, body });
        expect({ method, status: foreign.status }).toEqual({ method, status: 404 });
        expect(foreign.body).toEqual(missing.body);
      }
    }
    const still = await call("GET", `/v1/entities/contact/${id}`, { org: "org-b" });
    expect(still.body).toEqual(theirs.body);
  });

  it("for API keys: revoking another org's key", async () => {
    const theirs = await call("POST", "/v1/api-keys", { org: "org-b", body: { name: "b", scopes: ["automations:read"] } });
    const foreign = await call("DELETE", `/v1/api-keys/${theirs.body.id}`, { org: "org-a" });
    const missing = await call("DELETE", `/v1/api-keys/${crypto.randomUUID()}`, { org: "org-a" });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await call("GET", "/v1/entities/contact", { token: theirs.body.key })).status).toBe(200);
  });
});
