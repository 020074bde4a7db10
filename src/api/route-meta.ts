import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./context";

/**
 * The definition (createRoute config) of the route a request is about to reach, read from the app's OpenAPI
 * registry: the shared pipeline decides from a route's own metadata (who may call it, what body it takes)
 * instead of from path lists that drift from the routes.
 */
export type RouteLookup = (c: Context<AppEnv>) => RouteConfig | undefined;

/** `/v1/flows/{flow_id}` as Hono registers it: `/v1/flows/:flow_id` (the same rewrite OpenAPIHono.openapi does). */
const honoPath = (openApiPath: string) => openApiPath.replaceAll(/\/{(.+?)}/g, "/:$1");

/**
 * A lookup over every route registered on `app` with `.openapi()`. Built on first use, so routers mounted after
 * the middleware that calls it are included. When no route serves the request's method, the definition of a
 * route at the same path (another method) answers, so a wrong method on a public URL is a 405, not a 401. A path
 * no documented route serves (404, or a route added with `.get()` rather than `.openapi()`) has no definition:
 * callers treat that as "not public".
 */
export function routeLookup(app: OpenAPIHono<AppEnv>): RouteLookup {
  let index: { byKey: Map<string, RouteConfig>; byPath: { re: RegExp; route: RouteConfig }[] } | undefined;
  return (c) => {
    index ??= build(app);
    // Middleware (app.use) is registered for ALL methods; the first other match is the route that answers.
    const handler = matchedRoutes(c).find((r) => r.method !== "ALL");
    if (handler) return index.byKey.get(`${handler.method} ${handler.path}`);
    return index.byPath.find((p) => p.re.test(c.req.path))?.route;
  };
}

function build(app: OpenAPIHono<AppEnv>) {
  const byKey = new Map<string, RouteConfig>();
  const byPath: { re: RegExp; route: RouteConfig }[] = [];
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const path = honoPath(def.route.path);
    byKey.set(`${def.route.method.toUpperCase()} ${path}`, def.route);
    const pattern = path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+");
    byPath.push({ re: new RegExp(`^${pattern}$`), route: def.route });
  }
  return { byKey, byPath };
}

/** Public: the definition says `security: []` (publicRoute / webhookRoute). Anything else needs credentials. */
export const isPublicRoute = (route: RouteConfig | undefined): boolean =>
  Array.isArray(route?.security) && route.security.length === 0;

/** The route counts against the trigger rate limits: its definition says `x-rate-limit: trigger` (triggerRoute). */
export const countsAsTrigger = (route: RouteConfig | undefined): boolean =>
  (route as { "x-rate-limit"?: unknown } | undefined)?.["x-rate-limit"] === "trigger";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json$/i;

/** The route documents a request body in some non-JSON media type (the webhook receiver takes form and text). */
export const acceptsNonJsonBody = (route: RouteConfig | undefined): boolean =>
  Object.keys(route?.request?.body?.content ?? {}).some((type) => !JSON_TYPE.test(type));
