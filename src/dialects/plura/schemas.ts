import { z } from "@hono/zod-openapi";

/**
 * Plura's request/response envelope (seed 000). The request is the engine's ExecuteRequest (the same document);
 * the answer is always this envelope, success or not: a refusal (bad input, credentials, scope, limits) carries
 * `success: false`, the message in `error` and the engine's error code and details in `metadata`.
 */

export const PLURA_TAG = "Plura";

const Json = z.record(z.string(), z.unknown());

export const PluraEnvelopeSchema = z
  .object({
    requestId: z.string(),
    nodeId: z.string().nullable(),
    automationType: z.string().nullable().openapi({ description: "Null when the request named none (or was not JSON)" }),
    success: z.boolean(),
    data: z.unknown().nullable(),
    error: z.string().nullable().openapi({ description: "Error message if success is false" }),
    metadata: Json,
    timestamp: z.string().openapi({ format: "date-time" }),
    duration: z.number().openapi({ description: "Milliseconds spent on the request" }),
  })
  .openapi("PluraEnvelope");
export type PluraEnvelope = z.infer<typeof PluraEnvelopeSchema>;

export const PluraErrorEnvelopeSchema = PluraEnvelopeSchema.extend({
  success: z.literal(false),
  error: z.string(),
  metadata: z
    .object({
      code: z.string().openapi({ example: "VALIDATION_ERROR" }),
      details: z.array(Json),
    })
    .openapi({ description: "The engine's error code and the bad fields" }),
}).openapi("PluraErrorEnvelope");
