import { z } from "@hono/zod-openapi";
import { AppError, forbidden, notFound } from "../lib/errors";
import { isoNow } from "../lib/time";
import { deleteOrganization, getOrganization, insertOrganization } from "../store/organizations";
import { ORG_ID_PATTERN } from "./auth";
import type { Principal } from "../lib/principal";
import { createRouter, errorResponses, jsonBody, jsonResponse, superuserRoute } from "./router";

/**
 * Organizations, for the operator (superuser key only). Org ids need no registration; registering one
 * gives it a name, and deleting one (registered or not) revokes its API keys, disables its flows and makes
 * every API key or JWT of that org fail with 401. Data is kept; a deleted id cannot be registered again.
 */

const TAGS = ["organizations"];

const OrgIdSchema = z
  .string()
  .regex(ORG_ID_PATTERN, "1-64 characters: letters, digits, . _ : -")
  .openapi({ example: "org-a", description: "The organization id credentials name (`org_id` claim, `x-org-id`)" });

const OrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["active", "deleted"]),
    created_at: z.string().openapi({ format: "date-time" }),
    created_by: z.string(),
    deleted_at: z.string().nullable().openapi({ format: "date-time" }),
    deleted_by: z.string().nullable(),
  })
  .openapi("Organization");

const DeletedOrganizationSchema = z
  .object({
    organization: OrganizationSchema,
    revoked_api_keys: z.number().int().openapi({ description: "API keys revoked by the deletion" }),
    disabled_flows: z.number().int().openapi({ description: "Flows disabled by the deletion" }),
  })
  .openapi("DeletedOrganization");

const CreateOrganizationRequest = z
  .strictObject({ id: OrgIdSchema, name: z.string().min(1).max(200).optional() })
  .openapi("CreateOrganizationRequest");

const OrgParams = z.object({ org_id: OrgIdSchema.openapi({ param: { name: "org_id", in: "path" } }) });

const createRoute = superuserRoute({
  method: "post",
  path: "/",
  operationId: "createOrganization",
  tags: TAGS,
  summary: "Register an organization (superuser only)",
  request: jsonBody(CreateOrganizationRequest),
  responses: { 201: jsonResponse(OrganizationSchema, "Registered"), ...errorResponses(400, 401, 403, 409, 413, 415) },
});

const getRoute = superuserRoute({
  method: "get",
  path: "/{org_id}",
  operationId: "getOrganization",
  tags: TAGS,
  summary: "Get a registered or deleted organization (superuser only)",
  request: { params: OrgParams },
  responses: { 200: jsonResponse(OrganizationSchema, "The organization"), ...errorResponses(400, 401, 403, 404) },
});

const deleteRoute = superuserRoute({
  method: "delete",
  path: "/{org_id}",
  operationId: "deleteOrganization",
  tags: TAGS,
  summary:
    "Delete an organization (superuser only): its API keys are revoked, its flows disabled, and its API keys and JWTs answer 401",
  request: { params: OrgParams },
  responses: { 200: jsonResponse(DeletedOrganizationSchema, "Deleted"), ...errorResponses(400, 401, 403, 404) },
});

/** An org admin key holds `admin` too: managing organizations needs the operator's own key. */
function requireSuperuser(principal: Principal): void {
  if (principal.kind !== "superuser") throw forbidden("Only the superuser key manages organizations");
}

export const organizationsRouter = createRouter()
  .openapi(createRoute, async (c) => {
    const principal = c.get("principal");
    requireSuperuser(principal);
    const body = c.req.valid("json");
    const row = { id: body.id, name: body.name ?? body.id, created_at: isoNow(), created_by: principal.actor };
    if (!(await insertOrganization(c.env.DB, row))) {
      throw new AppError(409, "CONFLICT", `Organization ${body.id} already exists or was deleted (ids are not reused)`);
    }
    return c.json((await getOrganization(c.env.DB, body.id))!, 201);
  })
  .openapi(getRoute, async (c) => {
    requireSuperuser(c.get("principal"));
    const row = await getOrganization(c.env.DB, c.req.valid("param").org_id);
    if (!row) throw notFound("Organization");
    return c.json(row, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const principal = c.get("principal");
    requireSuperuser(principal);
    const orgId = c.req.valid("param").org_id;
    const res = await deleteOrganization(c.env.DB, orgId, isoNow(), principal.actor);
    if (!res.deleted) throw notFound("Organization");
    const row = (await getOrganization(c.env.DB, orgId))!;
    return c.json({ organization: row, revoked_api_keys: res.revoked_api_keys, disabled_flows: res.disabled_flows }, 200);
  });
