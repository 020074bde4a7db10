import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AppEnv } from "./context";
import { Deleted, Paging, idParams } from "./platform-http";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/**
 * The five routes of a named platform resource (list, create, get, update, delete) from its schemas and use
 * cases: reads need `automations:read`, writes `automations:write`; every route is in the OpenAPI document.
 */

export interface CrudUseCases<V, C, U> {
  list(env: Env, orgId: string, limit: number, offset: number): Promise<{ total: number; results: V[] }>;
  get(env: Env, orgId: string, id: string): Promise<V>;
  create(env: Env, p: Principal, input: C): Promise<V>;
  update(env: Env, p: Principal, id: string, input: U): Promise<V>;
  remove(env: Env, orgId: string, id: string): Promise<void>;
}

export interface CrudDefinition<VS extends z.ZodType, CS extends z.ZodType, US extends z.ZodType> {
  /** "webhook target": used in summaries. */
  noun: string;
  /** The noun's plural when it is not `noun` + "s" ("inboxes"). */
  nouns?: string;
  /** OpenAPI operation id stem, e.g. `WebhookTarget` → listWebhookTargets, createWebhookTarget, … */
  op: string;
  /** The stem's plural when it is not `op` + "s" (`Inboxes`). */
  ops?: string;
  tag: string;
  idName: string;
  view: VS;
  list: z.ZodType;
  create: CS;
  update: US;
  useCases: CrudUseCases<z.output<VS>, z.output<CS>, z.output<US>>;
  /** Extra words for the create/update summaries (what is validated, what is secret). */
  notes?: string;
}

export function crudRouter<VS extends z.ZodType, CS extends z.ZodType, US extends z.ZodType>(
  d: CrudDefinition<VS, CS, US>,
): OpenAPIHono<AppEnv> {
  const Params = idParams(d.idName);
  const tags = [d.tag];
  const one = jsonResponse(d.view, `The ${d.noun}`);
  const notes = d.notes ? `. ${d.notes}` : "";
  const nouns = d.nouns ?? `${d.noun}s`;
  const routes = {
    list: scopedRoute("automations:read", {
      method: "get",
      path: "/",
      operationId: `list${d.ops ?? `${d.op}s`}`,
      tags,
      summary: `List the organization's ${nouns}`,
      request: { query: Paging },
      responses: { 200: jsonResponse(d.list, nouns), ...errorResponses(400, 401, 403) },
    }),
    create: scopedRoute("automations:write", {
      method: "post",
      path: "/",
      operationId: `create${d.op}`,
      tags,
      summary: `Create a ${d.noun}${notes}`,
      request: jsonBody(d.create),
      responses: { 201: one, ...errorResponses(400, 401, 403, 409, 413, 415) },
    }),
    get: scopedRoute("automations:read", {
      method: "get",
      path: `/{${d.idName}}`,
      operationId: `get${d.op}`,
      tags,
      summary: `Get a ${d.noun}`,
      request: { params: Params },
      responses: { 200: one, ...errorResponses(401, 403, 404) },
    }),
    update: scopedRoute("automations:write", {
      method: "patch",
      path: `/{${d.idName}}`,
      operationId: `update${d.op}`,
      tags,
      summary: `Update a ${d.noun} (the fields given replace the stored ones)${notes}`,
      request: { params: Params, ...jsonBody(d.update) },
      responses: { 200: one, ...errorResponses(400, 401, 403, 404, 413, 415) },
    }),
    remove: scopedRoute("automations:write", {
      method: "delete",
      path: `/{${d.idName}}`,
      operationId: `delete${d.op}`,
      tags,
      summary: `Delete a ${d.noun}; flows naming it fail their runs with a clear error`,
      request: { params: Params },
      responses: { 200: jsonResponse(Deleted, "Deleted"), ...errorResponses(401, 403, 404) },
    }),
  };
  const u = d.useCases;
  // The routes are built from the definition's schemas, so the handlers read the validated input untyped and
  // give it the schemas' output types.
  type Valid = (target: "json" | "param" | "query") => unknown;
  const valid =
    (c: { req: { valid: unknown } }): Valid =>
    (target) =>
      (c.req.valid as Valid).call(c.req, target);
  const idOf = (c: { req: { valid: unknown } }) => (valid(c)("param") as Record<string, string>)[d.idName];
  return createRouter()
    .openapi(routes.list, async (c) => {
      const q = valid(c)("query") as z.output<typeof Paging>;
      const page = await u.list(c.env, c.get("principal").orgId, q.size ?? LIMITS.DEFAULT_PAGE_SIZE, q.from ?? 0);
      return c.json(page as never, 200);
    })
    .openapi(routes.create, async (c) => {
      const created = await u.create(c.env, c.get("principal"), valid(c)("json") as z.output<CS>);
      return c.json(created as never, 201);
    })
    .openapi(routes.get, async (c) => c.json((await u.get(c.env, c.get("principal").orgId, idOf(c))) as never, 200))
    .openapi(routes.update, async (c) => {
      const updated = await u.update(c.env, c.get("principal"), idOf(c), valid(c)("json") as z.output<US>);
      return c.json(updated as never, 200);
    })
    .openapi(routes.remove, async (c) => {
      const id = idOf(c);
      await u.remove(c.env, c.get("principal").orgId, id);
      return c.json({ id, deleted: true as const }, 200);
      // The generic routes' inferred Hono schema type has no name to give; the mount table only needs the router.
    }) as unknown as OpenAPIHono<AppEnv>;
}

export const listSchema = <S extends z.ZodType>(item: S, name: string) =>
  z.object({ total: z.number(), results: z.array(item) }).openapi(name);
