import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "VALIDATION_ERROR" }),
      message: z.string(),
      details: z.array(
        z.object({
          path: z.string().optional(),
          location: z.string().optional(),
          message: z.string(),
          code: z.string().optional(),
        }),
      ),
    }),
  })
  .openapi("Error");

/** Query `size`/`from` paging shared by list endpoints (size capped by LIMITS.MAX_PAGE_SIZE). */
export const PagingQuery = z.object({
  size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).default(LIMITS.DEFAULT_PAGE_SIZE).optional(),
  from: z.coerce.number().int().min(0).max(100_000).default(0).optional(),
});

/** Path segment ids: not restricted to UUIDs, so an unknown id of any shape is a plain 404. */
export const IdParam = (name: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name, in: "path" } });
