import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { adminCredential, loadDocument, operationsOf, send, toHonoPath } from "../support/openapi";

/** Routes that are not API operations: the service root and the document itself (/docs is a static asset). */
const NON_API = new Set(["GET /", "GET /openapi.json"]);

/** Real routes of the app: `app.use` middleware (method ALL on a wildcard) is not a route. */
function servedRoutes(): Set<string> {
  const app = createApp();
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" && r.path.endsWith("*")) continue;
    const key = `${r.method} ${r.path}`;
    if (!NON_API.has(key)) out.add(key);
  }
  return out;
}

describe("OpenAPI document ↔ routes", async () => {
  const doc = await loadDocument();
  const ops = operationsOf(doc);
  const documented = new Set(ops.map((op) => `${op.method} ${toHonoPath(op.path)}`));

  it("every route the app serves is in the document", () => {
    const undocumented = [...servedRoutes()].filter((r) => !documented.has(r));
    expect(undocumented, "routes missing from GET /openapi.json (register them with .openapi(route), not .get/.post)").toEqual(
      [],
    );
  });

  it("every operation of the document is served", () => {
    const served = servedRoutes();
    const unserved = [...documented].filter((r) => !served.has(r));
    expect(unserved, "documented operations no route serves").toEqual([]);
  });

  it("every operation is either public (security: []) or declares a known x-required-scope", () => {
    expect(ops.filter((op) => op.declarationProblem).map((op) => `${op.id} ${op.declarationProblem}`)).toEqual([]);
  });

  it("operation ids are present and unique", () => {
    const ids = ops.map((op) => op.id);
    expect(
      ids.filter((id) => id.includes(" ")),
      "operations without operationId",
    ).toEqual([]);
    expect(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      "duplicate operationIds",
    ).toEqual([]);
  });

  it("every operation documents the errors the pipeline can produce for it", () => {
    const missing: string[] = [];
    for (const op of ops) {
      const need = new Set<string>();
      if (!op.isPublic) need.add("401").add("403").add("429");
      if (op.path.startsWith("/v1/webhooks/")) need.add("429");
      if (op.pathParams.length + op.queryParams.length + op.headerParams.length > 0 || op.body) need.add("400");
      if (op.body) need.add("413");
      if (op.body && !op.path.startsWith("/v1/webhooks/")) need.add("415");
      for (const s of need) if (!(s in op.responses)) missing.push(`${op.id}: ${s}`);
    }
    expect(missing).toEqual([]);
  });

  it("every documented operation is routed: a real request never gets the router's 404 or 405", async () => {
    const unrouted: string[] = [];
    for (const op of ops) {
      const params = Object.fromEntries(op.pathParams.map((p) => [p.name, "parity-probe"]));
      const res = await send(op, { params, credential: adminCredential("parity-org") });
      const message = (res.json as { error?: { message?: string } } | undefined)?.error?.message ?? "";
      if (res.status === 405 || message.startsWith("No route for")) unrouted.push(`${op.id}: ${res.status} ${message}`);
    }
    expect(unrouted).toEqual([]);
  });
});
