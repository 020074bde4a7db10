import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import {
  CreatePartnerRequest,
  PartnerListSchema,
  PartnerOrgId,
  PartnerSchema,
  SharedEntityListSchema,
  SharedEntitySchema,
} from "../schemas/partners";
import { endPartnership, requestPartnership, requirePartner, requireSharedWithMe, sharedWithMe } from "../services/partners";
import { listPartners } from "../store/partners";
import { Paging } from "./platform-http";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/**
 * `/v1/partners` and `/v1/shared-entities` (docs/platform.md): partnerships between organizations (active once
 * both asked) and the records partners shared with this organization through trigger-share-entity.
 */

const TAGS = ["Partners"];
const Params = z.object({ partner_org_id: PartnerOrgId.openapi({ param: { name: "partner_org_id", in: "path" } }) });

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listPartners",
  tags: TAGS,
  summary: "Organizations this one asked for a partnership, or that asked it, with the partnership's status",
  request: { query: Paging },
  responses: { 200: jsonResponse(PartnerListSchema, "Partners"), ...errorResponses(400, 401, 403) },
});

const createRoute_ = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "requestPartnership",
  tags: TAGS,
  summary: "Ask for a partnership with an organization; it is active once that organization asks for it too",
  request: jsonBody(CreatePartnerRequest),
  responses: {
    201: jsonResponse(PartnerSchema, "Asked"),
    200: jsonResponse(PartnerSchema, "Already asked"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{partner_org_id}",
  operationId: "getPartner",
  tags: TAGS,
  summary: "A partnership of this organization",
  request: { params: Params },
  responses: { 200: jsonResponse(PartnerSchema, "The partner"), ...errorResponses(400, 401, 403, 404) },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/{partner_org_id}",
  operationId: "endPartnership",
  tags: TAGS,
  summary: "Withdraw this organization's request: the partnership ends and shared records are no longer readable by the partner",
  request: { params: Params },
  responses: {
    200: jsonResponse(z.object({ partner_org_id: z.string(), deleted: z.literal(true) }), "Ended"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const partnersRouter = createRouter()
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    return c.json(await listPartners(c.env.DB, c.get("principal").orgId, q.size ?? LIMITS.DEFAULT_PAGE_SIZE, q.from ?? 0), 200);
  })
  .openapi(createRoute_, async (c) => {
    const { created, partner } = await requestPartnership(c.env, c.get("principal"), c.req.valid("json").partner_org_id);
    return created ? c.json(partner, 201) : c.json(partner, 200);
  })
  .openapi(getRoute, async (c) =>
    c.json(await requirePartner(c.env, c.get("principal").orgId, c.req.valid("param").partner_org_id), 200),
  )
  .openapi(deleteRoute, async (c) => {
    const id = c.req.valid("param").partner_org_id;
    await endPartnership(c.env, c.get("principal").orgId, id);
    return c.json({ partner_org_id: id, deleted: true as const }, 200);
  });

const sharedListRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listSharedEntities",
  tags: TAGS,
  summary: "Records partners shared with this organization (read-only, as they are now), each with `_source_org`",
  request: { query: Paging },
  responses: { 200: jsonResponse(SharedEntityListSchema, "Shared records"), ...errorResponses(400, 401, 403) },
});

const sharedGetRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{entity_id}",
  operationId: "getSharedEntity",
  tags: TAGS,
  summary: "A record a partner shared with this organization",
  request: { params: z.object({ entity_id: IdParam("entity_id") }) },
  responses: { 200: jsonResponse(SharedEntitySchema, "The record"), ...errorResponses(401, 403, 404) },
});

export const sharedEntitiesRouter = createRouter()
  .openapi(sharedListRoute, async (c) => {
    const q = c.req.valid("query");
    return c.json(await sharedWithMe(c.env, c.get("principal").orgId, q.size ?? LIMITS.DEFAULT_PAGE_SIZE, q.from ?? 0), 200);
  })
  .openapi(sharedGetRoute, async (c) =>
    c.json(await requireSharedWithMe(c.env, c.get("principal").orgId, c.req.valid("param").entity_id), 200),
  );
