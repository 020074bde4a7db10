import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/** Building blocks shared by the trigger, action and flow schemas. */

/**
 * Ids of a flow's triggers, actions, conditions, schedules and loops. UUIDs when the server assigns them;
 * clients may use their own (epilot uses nanoids). No `:` so that secret owner keys stay unambiguous.
 */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
export const ItemIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.MAX_FLOW_ITEM_ID_LENGTH)
  .regex(ITEM_ID_PATTERN, "may contain only letters, digits, '.', '_' and '-'");

/** A short free-text field (names, schemas, modules). */
export const ShortText = z.string().min(1).max(LIMITS.MAX_NAME_LENGTH);

/** Values that may hold a `{{ liquid }}` template are checked only loosely: the template decides at run time. */
export const isTemplate = (value: string): boolean => value.includes("{{") || value.includes("{%");

/** An absolute http(s) URL, or a string containing a template that renders to one. */
export const TemplatedUrl = z
  .string()
  .min(1)
  .max(4000)
  .refine((v) => isTemplate(v) || (/^https?:\/\//i.test(v) && URL.canParse(v)), {
    message: "must be an absolute http(s) URL or contain a {{ template }}",
  })
  .openapi({ example: "https://hooks.example.com/{{ record.id }}" });

/** An email address, or a string containing a template that renders to one. */
export const TemplatedEmail = z
  .string()
  .min(1)
  .max(1000)
  .refine((v) => isTemplate(v) || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), {
    message: "must be an email address or contain a {{ template }}",
  });

export const RetryPolicySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(LIMITS.MAX_RETRY_ATTEMPTS).optional(),
    backoff_seconds: z
      .array(z.number().int().min(1).max(LIMITS.MAX_RETRY_BACKOFF_SECONDS))
      .max(LIMITS.MAX_RETRY_ATTEMPTS)
      .optional()
      .openapi({ description: "Wait before each retry; the last step repeats when attempts outnumber steps" }),
  })
  .strict()
  .openapi("RetryPolicy", { description: "How a failed action is retried (an action's policy overrides the flow's)" });

/** Write-only secret of an input document: a string sets it, `null` removes it, omitting it keeps the stored one. */
export const WriteOnlySecret = z
  .string()
  .min(LIMITS.MIN_SECRET_LENGTH)
  .max(LIMITS.MAX_SECRET_LENGTH)
  .nullable()
  .optional()
  .openapi({
    writeOnly: true,
    description:
      "Signing secret, encrypted at rest and never returned (responses carry `secret_configured`). " +
      "A string sets it, `null` removes it, omitting it on a PUT keeps the stored one.",
  });

/** Set by the server in responses; accepted (and ignored) on input so a fetched flow can be sent back unchanged. */
export const SecretConfigured = z
  .boolean()
  .optional()
  .openapi({ readOnly: true, description: "Whether a secret is stored for this item (the secret itself is never returned)" });
