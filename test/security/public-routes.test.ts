/**
 * Whether a route needs credentials is decided once, from its definition (`security: []` makes it public), not
 * from a list of paths: every operation of GET /openapi.json without `security: []` answers 401 to a request
 * without credentials, and every public one lets it through to its own checks.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE } from "../helpers";
import { NO_CREDENTIAL, loadDocument, operationsOf, send } from "../support/openapi";

const codeOf = (json: unknown) => (json as { error?: { code?: string } } | undefined)?.error?.code;

describe("public and authenticated routes, from the route definitions", async () => {
  const ops = operationsOf(await loadDocument());
  const params = (op: (typeof ops)[number]) => Object.fromEntries(op.pathParams.map((p) => [p.name, "probe"]));

  it("the document has both kinds", () => {
    expect(ops.filter((op) => op.isPublic).length).toBeGreaterThan(0);
    expect(ops.filter((op) => !op.isPublic).length).toBeGreaterThan(0);
  });

  it("every operation without security: [] answers 401 without credentials", async () => {
    const wrong: string[] = [];
    for (const op of ops.filter((o) => !o.isPublic)) {
      const res = await send(op, { params: params(op), json: op.body ? {} : undefined, credential: NO_CREDENTIAL });
      // A dialect may wrap the refusal in its own envelope (Plura): the status is what every client reads.
      if (res.status !== 401) wrong.push(`${op.id}: ${res.status} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("every public operation reaches its own checks without credentials (never the 401 of the auth middleware)", async () => {
    const wrong: string[] = [];
    for (const op of ops.filter((o) => o.isPublic)) {
      const res = await send(op, { params: params(op), json: op.body ? {} : undefined, credential: NO_CREDENTIAL });
      // The webhook receiver answers 404 for an unknown flow, the resume endpoint 400 for a missing token.
      if (res.status === 401 || codeOf(res.json) === "UNAUTHORIZED")
        wrong.push(`${op.id}: ${res.status} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });

  // The docs page and the console are static assets, served without credentials too: test/console/assets.test.ts.
  it("serves the service root and the document without credentials", async () => {
    for (const path of ["/", "/openapi.json"]) {
      expect({ path, status: (await SELF.fetch(`${BASE}${path}`)).status }).toEqual({ path, status: 200 });
    }
  });

  it("fails closed: a path no route serves needs credentials, a wrong method on a public URL is 405", async () => {
    const unknown = await SELF.fetch(`${BASE}/v1/no-such-resource`);
    expect(unknown.status).toBe(401);
    const wrongMethodAuthenticated = await SELF.fetch(`${BASE}/v1/automation/flows`, { method: "DELETE" });
    expect(wrongMethodAuthenticated.status).toBe(401);
    const wrongMethodPublic = await SELF.fetch(`${BASE}/v1/webhooks/some-flow/some-path`, { method: "GET" });
    expect(wrongMethodPublic.status).toBe(405);
    expect(wrongMethodPublic.headers.get("allow")).toBe("POST");
  });
});
