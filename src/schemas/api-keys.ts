import { z } from "@hono/zod-openapi";
import { SCOPES } from "../lib/principal";
import { LIMITS } from "../lib/limits";

export const ScopeSchema = z.enum(SCOPES).openapi("Scope");

export const CreateApiKeyRequest = z
  .object({
    name: z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH),
    scopes: z.array(ScopeSchema).min(1).max(SCOPES.length),
  })
  .strict()
  .openapi("CreateApiKeyRequest");

export const ApiKeySchema = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters of the key, to recognise it" }),
    scopes: z.array(ScopeSchema),
    created_at: z.string(),
    created_by: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The secret key. Returned only once, at creation." }),
}).openapi("CreatedApiKey");

export const ApiKeyListSchema = z.object({ total: z.number(), results: z.array(ApiKeySchema) }).openapi("ApiKeyList");
