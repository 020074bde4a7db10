import { describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";

describe("API keys", () => {
  it("creates a key whose secret is returned once and works as a bearer token", async () => {
    const created = await call("POST", "/v1/api-keys", { body: { name: "ci", scopes: ["automations:read"] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^ak_/);
    expect(created.body.org_id).toBe("org-a");

    const list = await call("GET", "/v1/api-keys");
    expect(list.status).toBe(200);
    const listed = list.body.results.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toBeDefined();
    expect(listed.key).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
  });

  it("revokes a key so it stops authenticating", async () => {
    const created = await call("POST", "/v1/api-keys", { body: { name: "to-revoke", scopes: ["admin"] } });
    const key = created.body.key as string;
    expect((await call("GET", "/v1/api-keys", { token: key })).status).toBe(200);
    expect((await call("DELETE", `/v1/api-keys/${created.body.id}`)).status).toBe(200);
    expect((await call("GET", "/v1/api-keys", { token: key })).status).toBe(401);
  });

  it("refuses without credentials, with a bad key and without the admin scope", async () => {
    expect((await call("GET", "/v1/api-keys", { token: null })).status).toBe(401);
    expect((await call("GET", "/v1/api-keys", { token: "ak_nope" })).status).toBe(401);
    const reader = await apiKey("org-a", ["automations:read"]);
    const res = await call("GET", "/v1/api-keys", { token: reader });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("does not let one org revoke another org's key", async () => {
    const created = await call("POST", "/v1/api-keys", { org: "org-b", body: { name: "b", scopes: ["admin"] } });
    expect((await call("DELETE", `/v1/api-keys/${created.body.id}`, { org: "org-a" })).status).toBe(404);
    expect((await call("GET", "/v1/api-keys", { token: created.body.key })).status).toBe(200);
  });

  it("rejects bad input with 400 naming each field, and non-JSON with 415", async () => {
    const bad = await call("POST", "/v1/api-keys", { body: { name: "", scopes: ["root"] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["name", "scopes.0"]);
    const malformed = await call("POST", "/v1/api-keys", { rawBody: "{nope", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    const text = await call("POST", "/v1/api-keys", {
      rawBody: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(text.status).toBe(415);
  });

  it("answers 405 for a wrong method and 404 for an unknown path", async () => {
    expect((await call("PUT", "/v1/api-keys")).status).toBe(405);
    expect((await call("GET", "/v1/nothing-here")).status).toBe(404);
  });
});
