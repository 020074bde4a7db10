import { OpenAPIHono, createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ErrorSchema } from "../schemas/common";
import { requireScope } from "./auth";
import type { AppEnv, Scope } from "./context";

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

/** OpenAPI responses for the given error statuses, all with the common error body. */
export function errorResponses(...statuses: ErrorStatus[]) {
  const out: Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }> = {};
  for (const s of statuses)
    out[s] = { description: ERROR_DESCRIPTIONS[s], content: { "application/json": { schema: ErrorSchema } } };
  return out;
}

export const SECURITY: Record<string, string[]>[] = [{ BearerAuth: [] }, { XKey: [] }];

/** A route that needs credentials holding `scope`; the scope is also written into the OpenAPI operation. */
export function scopedRoute<const R extends Omit<RouteConfig, "middleware" | "security">>(scope: Scope, route: R) {
  // The scope middleware runs before validation, so a caller without the scope gets 403, not 400.
  const config = { ...route, security: SECURITY, middleware: requireScope(scope), "x-required-scope": scope };
  return createRoute(config as R & { middleware: MiddlewareHandler<AppEnv> });
}

/** A route that authenticates by other means (a resume token, a webhook signature): no credentials, no scope. */
export function publicRoute<const R extends Omit<RouteConfig, "middleware" | "security">>(route: R) {
  return createRoute({ ...route, security: [] as Record<string, string[]>[] });
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
