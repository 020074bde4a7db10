import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { errorBody, notFound } from "../lib/errors";
import { getOrganization } from "../store/organizations";
import { PLANS, admitRequest, changeOrgPlan, orgUsage } from "../services/plans";
import { ORG_ID_PATTERN } from "./auth";
import type { AppEnv } from "./context";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, superuserRoute } from "./router";

/**
 * Plans (services/plans.ts): the quota middleware of the API pipeline, and the plan and usage operations of an
 * organization (mounted next to the organizations API at /v1/organizations).
 */

/** After authentication: an org with a plan gets 429 with Retry-After (to the next UTC midnight) past its daily quota. */
export const planQuota: MiddlewareHandler<AppEnv> = async (c, next) => {
  const principal = c.get("principal");
  // The operator's own key is never limited.
  if (!principal || principal.kind === "superuser") return next();
  const decision = await admitRequest(c.env.DB, principal.orgId);
  if (!decision) return next();
  const reset = String(Math.ceil(decision.resetAt / 1000));
  if (!decision.admitted) {
    const wait = decision.retryAfter;
    c.header("Retry-After", String(wait));
    c.header("X-RateLimit-Limit", String(decision.quota));
    c.header("X-RateLimit-Remaining", "0");
    c.header("X-RateLimit-Reset", reset);
    return c.json(
      errorBody(
        "DAILY_QUOTA_EXCEEDED",
        `Daily request quota of the ${decision.plan} plan (${decision.quota} requests per UTC day) exceeded`,
        [{ message: `Retry after ${wait} s (the next UTC midnight)` }],
      ),
      429,
    );
  }
  await next();
  c.header("X-RateLimit-Limit", String(decision.quota));
  c.header("X-RateLimit-Remaining", String(Math.max(0, decision.quota - decision.used)));
  c.header("X-RateLimit-Reset", reset);
};

const TAGS = ["organizations"];
const OrgParams = z.object({
  org_id: z
    .string()
    .regex(ORG_ID_PATTERN, "1-64 characters: letters, digits, . _ : -")
    .openapi({ param: { name: "org_id", in: "path" } }),
});

const UsageSchema = z
  .object({
    org_id: z.string(),
    plan: z
      .enum(PLANS as [string, ...string[]])
      .nullable()
      .openapi({ description: "null: no plan, unlimited" }),
    daily_quota: z.number().int().nullable(),
    day: z.string().openapi({ description: "Today (UTC), YYYY-MM-DD" }),
    requests: z.number().int().openapi({ description: "Requests served today" }),
    remaining: z.number().int().nullable(),
    resets_at: z.string().openapi({ format: "date-time" }),
    history: z
      .array(z.object({ day: z.string(), requests: z.number().int() }))
      .openapi({ description: "Counted requests per day (refused attempts included), newest first" }),
  })
  .openapi("OrganizationUsage");

const SetPlanSchema = z
  .strictObject({
    plan: z
      .enum(PLANS as [string, ...string[]])
      .nullable()
      .openapi({ description: "free (100 requests a day), pro (10,000), or null: no plan, unlimited" }),
  })
  .openapi("SetOrganizationPlan");

const setPlan = superuserRoute({
  method: "put",
  path: "/{org_id}/plan",
  operationId: "setOrganizationPlan",
  tags: TAGS,
  summary: "Set an organization's plan (superuser only): free, pro, or null for none (unlimited)",
  request: { params: OrgParams, ...jsonBody(SetPlanSchema) },
  responses: { 200: jsonResponse(UsageSchema, "The organization's plan and usage"), ...errorResponses(404) },
});

const usage = scopedRoute("automations:read", {
  method: "get",
  path: "/{org_id}/usage",
  operationId: "getOrganizationUsage",
  tags: TAGS,
  summary: "An organization's plan, daily quota and request counts (its own credentials; the superuser with x-org-id)",
  request: { params: OrgParams },
  responses: { 200: jsonResponse(UsageSchema, "The organization's plan and usage"), ...errorResponses(404) },
});

export const plansRouter = createRouter()
  .openapi(setPlan, async (c) => {
    const { org_id } = c.req.valid("param");
    const { plan } = c.req.valid("json");
    if (!(await changeOrgPlan(c.env.DB, org_id, plan as (typeof PLANS)[number] | null))) {
      throw notFound("Organization");
    }
    return c.json(await orgUsage(c.env.DB, org_id), 200);
  })
  .openapi(usage, async (c) => {
    const principal = c.get("principal");
    const { org_id } = c.req.valid("param");
    // An organization's own credentials only (the superuser names the org with x-org-id, as everywhere):
    // another organization's usage counts as a missing one.
    if (principal.orgId !== org_id) throw notFound("Organization");
    const org = await getOrganization(c.env.DB, org_id);
    if (org?.status === "deleted") throw notFound("Organization");
    return c.json(await orgUsage(c.env.DB, org_id), 200);
  });
