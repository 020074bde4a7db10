import { z } from "@hono/zod-openapi";
import { IdParam, PagingQuery } from "../schemas/common";

/** Small pieces the platform resource routers share (files, webhook targets, templates, inboxes, partners,
 * mappings); JSON bodies and responses come from router.ts like every router's. */

export const Paging = PagingQuery;

export const idParams = <N extends string>(name: N) =>
  z.object({ [name]: IdParam(name) } as { [K in N]: ReturnType<typeof IdParam> });

export const Deleted = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("PlatformResourceDeleted");
