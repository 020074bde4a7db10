import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { platformDescriptors } from "../providers/registry";
import { IdParam } from "../schemas/common";
import {
  ConnectionListQuery,
  ConnectionListSchema,
  ConnectionSchema,
  CreateConnectionRequest,
  PlatformSchema,
  ReencryptResultSchema,
  TestConfigRequest,
  TestResultSchema,
  UpdateConnectionRequest,
} from "../schemas/integrations";
import {
  createConnection,
  deleteConnection,
  reencryptConnections,
  requireConnection,
  testConfig,
  testConnection,
  toView,
  updateConnection,
} from "../services/connections";
import { listConnectionRows } from "../store/connections";
import { createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "./router";

const TAGS = ["Connections"];
const Params = z.object({ connection_id: IdParam("connection_id") });

const platformsRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/platforms",
  operationId: "listConnectionPlatforms",
  tags: TAGS,
  summary: "The platform registry: each platform's config JSON Schema and actions",
  responses: { 200: jsonResponse(z.object({ platforms: z.array(PlatformSchema) }), "Platforms"), ...errorResponses(401, 403) },
});

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listConnections",
  tags: TAGS,
  summary: "List the organization's connections (credentials masked)",
  request: { query: ConnectionListQuery },
  responses: { 200: jsonResponse(ConnectionListSchema, "Connections"), ...errorResponses(400, 401, 403) },
});

const createRoute_ = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "createConnection",
  tags: TAGS,
  summary: "Create a connection; its credentials are encrypted at rest and never returned",
  request: jsonBody(CreateConnectionRequest),
  responses: {
    201: jsonResponse(ConnectionSchema.extend({ test: TestResultSchema.optional() }), "Created"),
    ...errorResponses(400, 401, 403, 409, 413, 415),
  },
});

const testConfigRoute = triggerRoute("automations:write", {
  method: "post",
  path: "/test",
  operationId: "testConnectionConfig",
  tags: TAGS,
  summary: "Test a connection config before saving it (nothing is stored)",
  request: jsonBody(TestConfigRequest),
  responses: { 200: jsonResponse(TestResultSchema, "Test result"), ...errorResponses(400, 401, 403, 413, 415) },
});

const reencryptRoute = scopedRoute("admin", {
  method: "post",
  path: "/reencrypt",
  operationId: "reencryptConnections",
  tags: TAGS,
  summary: "Re-seal every connection sealed by a previous ENCRYPTION_KEY with the current one",
  responses: { 200: jsonResponse(ReencryptResultSchema, "Re-encrypted"), ...errorResponses(401, 403) },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{connection_id}",
  operationId: "getConnection",
  tags: TAGS,
  summary: "Get a connection (credentials masked)",
  request: { params: Params },
  responses: { 200: jsonResponse(ConnectionSchema, "The connection"), ...errorResponses(401, 403, 404) },
});

const updateRoute = scopedRoute("automations:write", {
  method: "patch",
  path: "/{connection_id}",
  operationId: "updateConnection",
  tags: TAGS,
  summary: "Update a connection's name, status or config (merged over the stored one)",
  request: { params: Params, ...jsonBody(UpdateConnectionRequest) },
  responses: { 200: jsonResponse(ConnectionSchema, "Updated"), ...errorResponses(400, 401, 403, 404, 413, 415) },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/{connection_id}",
  operationId: "deleteConnection",
  tags: TAGS,
  summary: "Delete a connection; flows naming it fail with a clear error",
  request: { params: Params },
  responses: {
    200: jsonResponse(z.object({ id: z.string(), deleted: z.boolean() }), "Deleted"),
    ...errorResponses(401, 403, 404),
  },
});

const testRoute = triggerRoute("automations:write", {
  method: "post",
  path: "/{connection_id}/test",
  operationId: "testConnection",
  tags: TAGS,
  summary: "Test a saved connection; the outcome sets its status (active, error, expired)",
  request: { params: Params },
  responses: { 200: jsonResponse(TestResultSchema, "Test result"), ...errorResponses(401, 403, 404) },
});

export const connectionsRouter = createRouter()
  .openapi(platformsRoute, (c) => c.json({ platforms: platformDescriptors() }, 200))
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await listConnectionRows(c.env.DB, c.get("principal").orgId, {
      platform: q.platform,
      limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: q.from ?? 0,
    });
    return c.json({ total: page.total, results: page.results.map(toView) }, 200);
  })
  .openapi(createRoute_, async (c) => {
    const p = c.get("principal");
    const input = c.req.valid("json");
    const row = await createConnection(c.env, p.orgId, p.actor, input);
    if (!input.test) return c.json(toView(row), 201);
    const { result, row: tested } = await testConnection(c.env, p.orgId, row.id);
    return c.json({ ...toView(tested), test: result }, 201);
  })
  .openapi(testConfigRoute, async (c) => {
    const input = c.req.valid("json");
    return c.json(await testConfig(c.env, input.platform, input.config), 200);
  })
  .openapi(reencryptRoute, async (c) => c.json(await reencryptConnections(c.env, c.get("principal").orgId), 200))
  .openapi(getRoute, async (c) => {
    const row = await requireConnection(c.env, c.get("principal").orgId, c.req.valid("param").connection_id);
    return c.json(toView(row), 200);
  })
  .openapi(updateRoute, async (c) => {
    const row = await updateConnection(c.env, c.get("principal").orgId, c.req.valid("param").connection_id, c.req.valid("json"));
    return c.json(toView(row), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const id = c.req.valid("param").connection_id;
    await deleteConnection(c.env, c.get("principal").orgId, id);
    return c.json({ id, deleted: true }, 200);
  })
  .openapi(testRoute, async (c) => {
    const { result, row } = await testConnection(c.env, c.get("principal").orgId, c.req.valid("param").connection_id);
    return c.json({ ...result, connection: toView(row) }, 200);
  });
