import { z } from "@hono/zod-openapi";
import { forbidden } from "../lib/errors";
import { reencryptAllSecrets, secretStatus } from "../services/secret-rotation";
import { createRouter, errorResponses, jsonResponse, superuserRoute } from "./router";

/**
 * Key rotation for the operator (superuser key only): how many secrets each key sealed, and re-encryption of
 * every secret with the current ENCRYPTION_KEY, across organizations. Remove an old key from
 * ENCRYPTION_KEYS_PREVIOUS only once `stale` is 0. No plaintext or ciphertext is ever returned.
 */

const TAGS = ["admin"];
const ByKey = z.record(z.string(), z.number().int());
const SecretStatusSchema = z
  .object({
    current_key_id: z.string().openapi({ description: "Id of ENCRYPTION_KEY (first 8 hex characters of its SHA-256)" }),
    by_key: z.object({ flow_secrets: ByKey, flow_secrets_retired: ByKey, connections: ByKey }),
    stale: z.number().int().openapi({ description: "Secrets sealed with another key: keep that key until this is 0" }),
  })
  .openapi("SecretStatus");
const ReencryptReportSchema = SecretStatusSchema.extend({
  reencrypted: z.number().int(),
  failed: z.array(z.object({ table: z.string(), org_id: z.string(), id: z.string(), reason: z.string() })),
}).openapi("ReencryptReport");

const statusRoute = superuserRoute({
  method: "get",
  path: "/secrets",
  operationId: "getSecretStatus",
  tags: TAGS,
  summary: "Secrets at rest per encryption key id (superuser only)",
  responses: { 200: jsonResponse(SecretStatusSchema, "Status"), ...errorResponses(401, 403) },
});

const reencryptRoute = superuserRoute({
  method: "post",
  path: "/secrets:reencrypt",
  operationId: "reencryptSecrets",
  tags: TAGS,
  summary: "Re-encrypt every secret with the current ENCRYPTION_KEY after a rotation (superuser only)",
  responses: { 200: jsonResponse(ReencryptReportSchema, "Done"), ...errorResponses(401, 403) },
});

export const adminSecretsRouter = createRouter()
  .openapi(statusRoute, async (c) => {
    if (c.get("principal").kind !== "superuser") throw forbidden("Only the superuser key manages encryption keys");
    return c.json(await secretStatus(c.env), 200);
  })
  .openapi(reencryptRoute, async (c) => {
    if (c.get("principal").kind !== "superuser") throw forbidden("Only the superuser key manages encryption keys");
    return c.json(await reencryptAllSecrets(c.env), 200);
  });
