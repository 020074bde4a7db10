import { z } from "@hono/zod-openapi";
import { EntitySnapshotSchema } from "./records";

/** Partnerships between organizations and the records shared through them (docs/platform.md). */

/** An organization id, as credentials name it (api/auth.ts ORG_ID_PATTERN). */
export const PartnerOrgId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, "1-64 characters: letters, digits, . _ : -")
  .openapi({ example: "org-partner" });

export const PartnerSchema = z
  .object({
    partner_org_id: z.string(),
    status: z.enum(["active", "pending", "invited"]).openapi({
      description: "`active`: both organizations asked; `pending`: this one asked; `invited`: the other one asked",
    }),
    requested_at: z.string().nullable(),
    partner_requested_at: z.string().nullable(),
  })
  .openapi("Partner");

export const PartnerListSchema = z.object({ total: z.number(), results: z.array(PartnerSchema) }).openapi("PartnerList");

export const CreatePartnerRequest = z.strictObject({ partner_org_id: PartnerOrgId }).openapi("CreatePartnerRequest");

export const SharedEntitySchema = EntitySnapshotSchema.extend({
  _source_org: z.string().openapi({ description: "The organization that shared the record (read-only here)" }),
  _shared_at: z.string(),
}).openapi("SharedEntity");

export const SharedEntityListSchema = z
  .object({ total: z.number(), results: z.array(SharedEntitySchema) })
  .openapi("SharedEntityList");
