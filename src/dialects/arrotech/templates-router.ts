import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, publicRoute, scopedRoute } from "../../api/router";
import { notFound } from "../../lib/errors";
import { IdParam } from "../../schemas/common";
import { TEMPLATES, TEMPLATE_CATEGORIES, findTemplate, type TemplateCategory, type WorkflowTemplate } from "./templates";
import { requiredConnections, templateFlow, useTemplate } from "./templates-use";
import {
  CategoryListSchema,
  TemplateListQuery,
  TemplateListSchema,
  TemplateOneSchema,
  UseTemplateResultSchema,
  UseTemplateSchema,
} from "./templates-schemas";
import { ARROTECH_TAG } from "./workflows-schemas";

/**
 * Arrotech Hub's workflow templates (seed 002) at `/v1/workflow-templates`: list (category, difficulty, search,
 * connection), categories, get one — public, as the document has them (the catalog is the same for everyone) — and
 * use one (authenticated: it creates a workflow). Answers are the document's `{success, data, message}`.
 */

export const TEMPLATES_BASE = "/v1/workflow-templates";
const TAGS = [ARROTECH_TAG];
const Params = z.object({ template_id: IdParam("template_id") });

const list = publicRoute({
  method: "get",
  path: "/",
  operationId: "arrotechListTemplates",
  tags: TAGS,
  summary: "List workflow templates (filters: category, difficulty, search, connection)",
  request: { query: TemplateListQuery },
  responses: { 200: jsonResponse(TemplateListSchema, "Templates") },
});
const categories = publicRoute({
  method: "get",
  path: "/categories",
  operationId: "arrotechListTemplateCategories",
  tags: TAGS,
  summary: "Get all template categories",
  responses: { 200: jsonResponse(CategoryListSchema, "Categories") },
});
const get = publicRoute({
  method: "get",
  path: "/{template_id}",
  operationId: "arrotechGetTemplate",
  tags: TAGS,
  summary: "Get a template with its workflow and flow definition",
  request: { params: Params },
  responses: { 200: jsonResponse(TemplateOneSchema, "The template"), ...errorResponses(404) },
});
const use = scopedRoute("automations:write", {
  method: "post",
  path: "/{template_id}/use",
  operationId: "arrotechUseTemplate",
  tags: TAGS,
  summary: "Create a workflow from a template, bound to the organization's connections",
  description:
    "Each provider the template needs is bound to the connection named in `connections` (platform → id), else to the " +
    "organization's oldest active connection of that platform. When one is missing the workflow is created as a " +
    "draft and `missing_connections` names the platforms; connect them, set the steps' connection_id if needed, and " +
    "set status active.",
  request: { params: Params, ...jsonBody(UseTemplateSchema, false) },
  responses: { 201: jsonResponse(UseTemplateResultSchema, "The created workflow and its bindings"), ...errorResponses(404) },
});

/** A template as the API shows it: the catalog entry, its required connections and its flow document. */
export function presentTemplate(t: WorkflowTemplate) {
  return { ...t, required_connections: requiredConnections(t), flow: templateFlow(t) };
}

type ListQuery = z.infer<typeof TemplateListQuery>;

function matches(t: WorkflowTemplate, q: ListQuery): boolean {
  if (q.category && t.category !== q.category) return false;
  if (q.difficulty && t.difficulty !== q.difficulty) return false;
  if (q.connection && !requiredConnections(t).includes(q.connection.toLowerCase())) return false;
  if (q.search) {
    const text = [t.id, t.name, t.description, ...t.tags].join(" ").toLowerCase();
    if (
      !q.search
        .toLowerCase()
        .split(/\s+/)
        .filter(Boolean)
        .every((w) => text.includes(w))
    )
      return false;
  }
  return true;
}

const ok = <T>(data: T, message: string) => ({ success: true as const, data, message });

export const templatesRouter = createRouter()
  .openapi(list, (c) => {
    const q = c.req.valid("query");
    const found = TEMPLATES.filter((t) => matches(t, q)).map(presentTemplate);
    return c.json(asResponse(TemplateListSchema, ok(found, `${found.length} templates`)), 200);
  })
  .openapi(categories, (c) => {
    const data = Object.entries(TEMPLATE_CATEGORIES).map(([id, cat]) => ({
      id,
      ...cat,
      template_count: TEMPLATES.filter((t) => t.category === (id as TemplateCategory)).length,
    }));
    return c.json(asResponse(CategoryListSchema, ok(data, `${data.length} categories`)), 200);
  })
  .openapi(get, (c) => {
    const t = findTemplate(c.req.valid("param").template_id);
    if (!t) throw notFound("Template");
    return c.json(asResponse(TemplateOneSchema, ok(presentTemplate(t), "Template found")), 200);
  })
  .openapi(use, async (c) => {
    const t = findTemplate(c.req.valid("param").template_id);
    if (!t) throw notFound("Template");
    // Without a body the validator is skipped: use the defaults.
    const body = c.req.valid("json") ?? {};
    const result = await useTemplate(c.env, c.get("principal"), t, body);
    const message =
      result.missing_connections.length > 0
        ? `Workflow created as a draft: connect ${result.missing_connections.join(", ")}, then set status active`
        : "Workflow created";
    return c.json(asResponse(UseTemplateResultSchema, ok(result, message)), 201);
  });
