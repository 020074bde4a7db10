import { z } from "@hono/zod-openapi";
import { AppError, notFound } from "../lib/errors";
import { randomToken, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { ApiKeyListSchema, ApiKeySchema, CreateApiKeyRequest, CreatedApiKeySchema } from "../schemas/api-keys";
import { IdParam, PagingQuery } from "../schemas/common";
import { countActiveApiKeys, getApiKey, insertApiKey, listApiKeys, revokeApiKey } from "../store/api-keys";
import { API_KEY_PREFIX } from "./auth";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

const TAGS = ["API keys"];

const createKey = scopedRoute("admin", {
  method: "post",
  path: "/",
  operationId: "createApiKey",
  tags: TAGS,
  summary: "Create an API key for the caller's organization (the secret is returned once)",
  request: jsonBody(CreateApiKeyRequest),
  responses: {
    201: jsonResponse(CreatedApiKeySchema, "Created"),
    ...errorResponses(400, 401, 403, 409, 413, 415),
  },
});

const listKeys = scopedRoute("admin", {
  method: "get",
  path: "/",
  operationId: "listApiKeys",
  tags: TAGS,
  summary: "List the organization's API keys (never their secrets)",
  request: { query: PagingQuery },
  responses: {
    200: jsonResponse(ApiKeyListSchema, "Keys"),
    ...errorResponses(400, 401, 403),
  },
});

const revokeKey = scopedRoute("admin", {
  method: "delete",
  path: "/{key_id}",
  operationId: "revokeApiKey",
  tags: TAGS,
  summary: "Revoke an API key; it stops working at once",
  request: { params: z.object({ key_id: IdParam("key_id") }) },
  responses: {
    200: jsonResponse(ApiKeySchema, "Revoked"),
    ...errorResponses(401, 403, 404),
  },
});

export const apiKeysRouter = createRouter()
  .openapi(createKey, async (c) => {
    const principal = c.get("principal");
    const body = c.req.valid("json");
    if ((await countActiveApiKeys(c.env.DB, principal.orgId)) >= LIMITS.MAX_API_KEYS_PER_ORG) {
      throw new AppError(409, "LIMIT_REACHED", `An organization may have at most ${LIMITS.MAX_API_KEYS_PER_ORG} active API keys`);
    }
    const id = newId();
    const key = `${API_KEY_PREFIX}${randomToken(32)}`;
    const row = {
      id,
      org_id: principal.orgId,
      name: body.name,
      prefix: key.slice(0, 10),
      scopes: [...new Set(body.scopes)],
      created_at: isoNow(),
      created_by: principal.actor,
      last_used_at: null,
      revoked_at: null,
    };
    await insertApiKey(c.env.DB, { ...row, key_hash: await sha256Hex(key) });
    return c.json({ ...row, key }, 201);
  })
  .openapi(listKeys, async (c) => {
    const q = c.req.valid("query");
    const page = await listApiKeys(c.env.DB, c.get("principal").orgId, q.size ?? LIMITS.DEFAULT_PAGE_SIZE, q.from ?? 0);
    return c.json(page, 200);
  })
  .openapi(revokeKey, async (c) => {
    const orgId = c.get("principal").orgId;
    const { key_id } = c.req.valid("param");
    if (!(await revokeApiKey(c.env.DB, orgId, key_id, isoNow()))) throw notFound("API key");
    const row = await getApiKey(c.env.DB, orgId, key_id);
    if (!row) throw notFound("API key");
    return c.json(row, 200);
  });
