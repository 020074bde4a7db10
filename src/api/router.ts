import { OpenAPIHono, createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ErrorSchema } from "../schemas/common";
import { forbidden } from "../lib/errors";
import { requireScope } from "./auth";
import type { AppEnv } from "./context";
import type { Scope } from "../lib/principal";

const ERROR_DESCRIPTIONS = {
  400: "Invalid input: each bad field is named in `error.details`",
  401: "Missing or invalid credentials",
  403: "The credentials lack the required scope",
  404: "Not found (also for another organization's resources)",
  409: "Conflict with the resource's current state",
  413: "Request body too large",
  415: "Request body is not JSON",
  429: "Too many requests",
} as const;
type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** An OpenAPI response whose body is JSON of `schema`: every router's responses are made with this. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * A route's JSON request body of `schema`, to spread into its `request`: every router's bodies are made with this.
 * Not `required`: a call without a body (and without a content type) reaches the handler with `{}`.
 */
export const jsonBody = <S extends z.ZodType, R extends boolean = true>(
  schema: S,
  required: R = true as R,
  description?: string,
) => ({
  body: { content: { "application/json": { schema } }, required, ...(description !== undefined ? { description } : {}) },
});

/** OpenAPI responses for the given error statuses, all with the common error body. */
export function errorResponses(...statuses: ErrorStatus[]) {
  const out: Record<number, ReturnType<typeof jsonResponse<typeof ErrorSchema>>> = {};
  for (const s of statuses) out[s] = jsonResponse(ErrorSchema, ERROR_DESCRIPTIONS[s]);
  return out;
}

export const SECURITY: Record<string, string[]>[] = [{ BearerAuth: [] }, { XKey: [] }];

type RouteInput = Omit<RouteConfig, "middleware" | "security">;

/** Who may call a route: with credentials, anyone (a resume token authenticates), or a webhook sender (a signature). */
type Access = "authenticated" | "public" | "webhook";

/**
 * The errors the shared pipeline can answer for any route of this shape, so the document lists them even when
 * a route forgets: 401/403 (auth, scope), 429 (rate limits: authenticated calls and inbound webhooks), 400 (input
 * validation), 413 (body limit), 415 (JSON only; a route documenting other body types, the webhook receiver, is
 * exempt). The route's own entries win.
 */
function withPipelineErrors<R extends RouteInput>(route: R, access: Access): R {
  const req = route.request;
  const webhook = access === "webhook";
  const statuses: ErrorStatus[] = access === "authenticated" ? [401, 403, 429] : webhook ? [429] : [];
  if (req && (req.params || req.query || req.headers || req.cookies || req.body)) statuses.push(400);
  if (req?.body) statuses.push(413);
  if (req?.body && !webhook) statuses.push(415);
  return { ...route, responses: { ...errorResponses(...statuses), ...route.responses } };
}

/** A route that needs credentials holding `scope`; the scope is also written into the OpenAPI operation. */
export function scopedRoute<const R extends RouteInput>(scope: Scope, route: R) {
  // The scope middleware runs before validation, so a caller without the scope gets 403, not 400.
  const config = {
    ...withPipelineErrors(route, "authenticated"),
    security: SECURITY,
    middleware: requireScope(scope),
    "x-required-scope": scope,
  };
  return createRoute(config as R & { middleware: MiddlewareHandler<AppEnv> });
}

/**
 * A route that starts work (an execution, a tool, a model or vendor call) and so counts against the trigger rate
 * limits on top of the API limits. The mark is `x-rate-limit: trigger` in the definition (and the document); the
 * rate-limit middleware reads it from the matched route (api/route-meta.ts `countsAsTrigger`), as auth reads
 * `security: []`, so no path list can drift from the routes.
 */
export function triggerRoute<const R extends RouteInput>(scope: Scope, route: R) {
  return scopedRoute(scope, { ...route, "x-rate-limit": "trigger" });
}

/** Route middleware: 403 unless the caller is the superuser (the operator's own key). */
const requireSuperuser: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("principal").kind !== "superuser") throw forbidden("Only the superuser key may call this operation");
  await next();
};

/**
 * A route only the operator's own key (the superuser) may call: an org's `admin` scope is not enough. Documented
 * as `x-required-scope: admin` plus `x-superuser-only: true`, so clients and the isolation matrix know.
 */
export function superuserRoute<const R extends RouteInput>(route: R) {
  const config = {
    ...withPipelineErrors(route, "authenticated"),
    security: SECURITY,
    middleware: [requireScope("admin"), requireSuperuser],
    "x-required-scope": "admin",
    "x-superuser-only": true,
  };
  return createRoute(config as R & { middleware: MiddlewareHandler<AppEnv>[] });
}

/**
 * A route that authenticates by other means (a resume token): no credentials, no scope. `security: []` is what
 * the auth middleware reads (api/route-meta.ts): it is the one place a route is made public.
 */
export function publicRoute<const R extends RouteInput>(route: R) {
  return createRoute({ ...withPipelineErrors(route, "public"), security: [] as Record<string, string[]>[] });
}

/** A public route that receives webhooks: authenticated by the sender's signature, rate-limited per webhook URL. */
export function webhookRoute<const R extends RouteInput>(route: R) {
  return createRoute({ ...withPipelineErrors(route, "webhook"), security: [] as Record<string, string[]>[] });
}

/** A router whose validation failures become the common 400 body naming every bad field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(
          {
            error: {
              code: "VALIDATION_ERROR",
              message: `Invalid ${result.target === "json" ? "request body" : result.target}`,
              details: result.error.issues.map((i) => ({
                path: i.path.map(String).join("."),
                location: result.target,
                message: i.message,
                code: i.code,
              })),
            },
          },
          400,
        );
      }
    },
  });
}

/**
 * Types an engine view as the route's response schema. The zod schema is what the OpenAPI document
 * shows and what tests validate responses against; the view builders are typed on their own.
 */
export const asResponse = <S extends z.ZodType>(_schema: S, value: unknown): z.output<S> => value as z.output<S>;
