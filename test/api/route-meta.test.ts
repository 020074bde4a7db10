import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { acceptsNonJsonBody, isPublicRoute, routeLookup } from "../../src/api/route-meta";
import { createRouter, publicRoute, scopedRoute, webhookRoute } from "../../src/api/router";

/**
 * The shared pipeline reads a route's own definition: a router mounted at a prefix, with one route of each kind,
 * and a middleware that reports what the lookup says for the request it sees.
 */
function probeApp() {
  const ok = { 200: { description: "ok" } };
  const sub = createRouter()
    .openapi(publicRoute({ method: "post", path: "/open:resume", responses: ok }), (c) => c.text("open"))
    .openapi(scopedRoute("automations:read", { method: "get", path: "/things/{id}", responses: ok }), (c) => c.text("thing"))
    .openapi(
      webhookRoute({
        method: "post",
        path: "/hooks/{id}",
        request: { body: { content: { "text/plain": { schema: z.string() } } } },
        responses: ok,
      }),
      (c) => c.text("hook"),
    );
  const app = createRouter();
  const routeOf = routeLookup(app);
  app.use("*", async (c) => {
    const route = routeOf(c);
    return c.json({ path: route?.path ?? null, public: isPublicRoute(route), anyBody: acceptsNonJsonBody(route) });
  });
  app.route("/v1/probe", sub);
  return app;
}

async function ask(method: string, path: string) {
  const res = await probeApp().request(path, { method });
  return (await res.json()) as { path: string | null; public: boolean; anyBody: boolean };
}

describe("routeLookup", () => {
  it("finds the definition of a route mounted at a prefix, with its full documented path", async () => {
    expect(await ask("GET", "/v1/probe/things/42")).toEqual({ path: "/v1/probe/things/{id}", public: false, anyBody: false });
    expect(await ask("POST", "/v1/probe/open:resume")).toEqual({ path: "/v1/probe/open:resume", public: true, anyBody: false });
    expect(await ask("POST", "/v1/probe/hooks/7")).toEqual({ path: "/v1/probe/hooks/{id}", public: true, anyBody: true });
  });

  it("answers for the route at the same path when the method does not match (a 405 keeps the route's access)", async () => {
    expect(await ask("GET", "/v1/probe/hooks/7")).toMatchObject({ path: "/v1/probe/hooks/{id}", public: true });
    expect(await ask("DELETE", "/v1/probe/things/42")).toMatchObject({ path: "/v1/probe/things/{id}", public: false });
  });

  it("has no definition, so not public, for a path no route serves", async () => {
    expect(await ask("GET", "/v1/probe/nothing")).toEqual({ path: null, public: false, anyBody: false });
    expect(await ask("GET", "/v1/probe/things/42/deeper")).toEqual({ path: null, public: false, anyBody: false });
  });
});
