import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, call } from "../helpers";

/*
 * The Vitest integration's SELF is the Worker alone: static assets are reached through the ASSETS binding, which
 * serves them with the deployed configuration (html_handling, _headers). That assets come before the Worker only
 * where a file exists is the platform's routing, exercised end to end by the browser tests (test/browser/).
 */
const ASSETS = (env as unknown as { ASSETS: Fetcher }).ASSETS;

/** Every src/href of a page's tags, as written. */
function references(html: string): string[] {
  return [...html.matchAll(/<(?:script|link|img|iframe|source)\b[^>]*?\s(?:src|href)=["']([^"']+)["']/gi)].map((m) => m[1]);
}

async function get(path: string, init?: RequestInit) {
  return ASSETS.fetch(`${BASE}${path}`, { redirect: "manual", ...init });
}

/** The page's assets must come from the Worker itself: relative or root paths, never another origin. */
function expectSameOrigin(refs: string[]) {
  expect(refs.length).toBeGreaterThan(0);
  for (const ref of refs) {
    expect(ref, `${ref} is not same-origin`).toMatch(/^\/(?!\/)/);
    expect(new URL(ref, BASE).origin).toBe(BASE);
  }
}

describe("/docs (Swagger UI, offline)", () => {
  it("serves an HTML page that loads only same-origin assets, and every one of them is served", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("swagger-ui");
    const refs = references(html);
    expectSameOrigin(refs);
    expect(refs).toEqual(expect.arrayContaining(["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"]));
    for (const ref of refs) {
      const asset = await get(ref);
      expect(asset.status, ref).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(0);
    }
  });

  it("points Swagger UI at the Worker's own OpenAPI document, which is served", async () => {
    const init = await (await get("/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).not.toMatch(/https?:\/\//);
    const doc = await call("GET", "/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.0.3");
  });

  it("sends a Content-Security-Policy that allows no other origin", async () => {
    const csp = (await get("/docs")).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });

  it("answers /docs/ by redirecting to /docs", async () => {
    const res = await get("/docs/");
    expect([301, 307, 308]).toContain(res.status);
    expect(new URL(res.headers.get("location")!, BASE).pathname).toBe("/docs");
  });
});

describe("/console", () => {
  it("serves the console page with same-origin assets only, all served with their types", async () => {
    const res = await get("/console");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<div id="app">');
    const refs = references(html);
    expectSameOrigin(refs);
    expect(refs).toEqual(expect.arrayContaining(["/console/app.js", "/console/styles.css"]));
    const js = await get("/console/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(await js.text()).toContain("/v1/automation/flows");
    const css = await get("/console/styles.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("bundles no reference to another origin in its script", async () => {
    const js = await (await get("/console/app.js")).text();
    // URLs in the bundle: only the SVG/XHTML namespaces Preact names, never something to load.
    const urls = [...js.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
    for (const url of urls) expect(url).toMatch(/^http:\/\/www\.w3\.org\//);
  });

  it("sends a strict Content-Security-Policy", async () => {
    const csp = (await get("/console")).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
  });

  it("has no file for the assets' configuration or for unknown paths (those go on to the Worker)", async () => {
    for (const path of ["/_headers", "/console/nope.js", "/v1/automation/flows", "/openapi.json"]) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});

describe("the API keeps its own answers next to the assets", () => {
  it("an unknown API path is the JSON 404, not a page", async () => {
    for (const path of ["/v1/nope", "/api/nope", "/v1/automation/flows/x/y/z"]) {
      const res = await call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe("NOT_FOUND");
    }
  });

  it("a wrong method is the JSON 405", async () => {
    const res = await call("PATCH", "/v1/automation/flows");
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe("METHOD_NOT_ALLOWED");
  });

  it("the Worker itself serves no HTML page: /docs and /console exist only as assets", async () => {
    for (const path of ["/docs", "/console"]) {
      const res = await call("GET", path, { token: null });
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe("NOT_FOUND");
    }
  });

  it("the service root names the console and the docs", async () => {
    const res = await call("GET", "/", { token: null });
    expect(res.body).toMatchObject({ docs: "/docs", console: "/console", openapi: "/openapi.json" });
  });
});
