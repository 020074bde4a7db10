import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "../../api/router";
import type { AppEnv } from "../../api/context";
import type { Context } from "hono";
import { LIMITS } from "../../lib/limits";
import { IdParam } from "../../schemas/common";
import type { AutomationFlow } from "../../schemas/flow";
import { createFlow, listFlows, removeFlow, requireFlow, setFlowEnabledBy, updateFlow } from "../../services/flows";
import { present, webhookUrl } from "./present";
import {
  COHERENCE_TAG,
  CohCreateSchema,
  CohDataSchema,
  CohDeletedSchema,
  CohListQuery,
  CohListSchema,
  CohPatchSchema,
  CohRotatedSchema,
  CohToggledSchema,
  NOUN,
} from "./schemas";
import { AppError } from "../../lib/errors";
import { newWebhookToken } from "../../lib/webhook-tokens";
import { coherenceLens, type CohModel } from "./translate";
import { runsRouter } from "./runs";

/**
 * Coherence's Automation API (seed 004) at `/v1/automations`: list (module / enabled / trigger_type filters,
 * page / per_page), get, create, patch, delete, enable and disable. Logs, dry-run test and manual trigger are
 * in runs.ts. Writes go through translate.ts and the same flow writes as the native API.
 */

/** Where app.ts mounts coherenceRouter; its paths are relative to it. */
export const COHERENCE_BASE = "/v1/automations";
const TAGS = [COHERENCE_TAG];
const IdParams = z.object({ id: IdParam("id").openapi({ description: "The automation's id (the engine's flow id)" }) });

const list = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "coherenceListAutomations",
  tags: TAGS,
  summary: "List all automations",
  description: `Filters: module, enabled, trigger_type. Paging: page (from 1), per_page (at most ${LIMITS.MAX_PAGE_SIZE}, default ${LIMITS.DEFAULT_PAGE_SIZE}).`,
  request: { query: CohListQuery },
  responses: { 200: jsonResponse(CohListSchema, "Automations"), ...errorResponses(400) },
});
const get = scopedRoute("automations:read", {
  method: "get",
  path: "/{id}",
  operationId: "coherenceGetAutomation",
  tags: TAGS,
  summary: "Get a single automation",
  request: { params: IdParams },
  responses: { 200: jsonResponse(CohDataSchema, "The automation"), ...errorResponses(404) },
});
const create = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "coherenceCreateAutomation",
  tags: TAGS,
  summary: "Create an automation (disabled unless enabled: true)",
  description: "A webhook trigger's answer carries `webhook_url` with its unguessable token: shown when created, keep it.",
  request: jsonBody(CohCreateSchema),
  responses: { 201: jsonResponse(CohDataSchema, "The created automation"), ...errorResponses(400) },
});
const patch = scopedRoute("automations:write", {
  method: "patch",
  path: "/{id}",
  operationId: "coherenceUpdateAutomation",
  tags: TAGS,
  summary: "Update an automation; updating automatically disables it (unless the body says enabled: true)",
  request: { params: IdParams, ...jsonBody(CohPatchSchema) },
  responses: { 200: jsonResponse(CohDataSchema, "The updated automation"), ...errorResponses(400, 404, 409) },
});
const del = scopedRoute("automations:write", {
  method: "delete",
  path: "/{id}",
  operationId: "coherenceDeleteAutomation",
  tags: TAGS,
  summary: "Permanently delete an automation",
  request: { params: IdParams },
  responses: { 200: jsonResponse(CohDeletedSchema, "Deleted"), ...errorResponses(404) },
});
const toggle = (enable: boolean) =>
  scopedRoute("automations:write", {
    method: "post",
    path: `/{id}/${enable ? "enable" : "disable"}`,
    operationId: enable ? "coherenceEnableAutomation" : "coherenceDisableAutomation",
    tags: TAGS,
    summary: enable ? "Enable an automation (also after the circuit breaker disabled it)" : "Disable an automation",
    request: { params: IdParams },
    responses: { 200: jsonResponse(CohToggledSchema, "The new state"), ...errorResponses(404) },
  });

const rotate = scopedRoute("automations:write", {
  method: "post",
  path: "/{id}/rotate-webhook-token",
  operationId: "coherenceRotateWebhookToken",
  tags: TAGS,
  summary: "Give a webhook automation a new URL token: the answer's webhook_url is the only time it is shown",
  description:
    "The previous URL stops working at once. The engine keeps only the token's SHA-256, so a lost URL cannot be " +
    "shown again: rotate to get a new one. 409 when the automation's trigger is not a webhook.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(CohRotatedSchema, "The new webhook URL"), ...errorResponses(404, 409) },
});

const originOf = (c: Context<AppEnv>) => new URL(c.req.url).origin;

const toggled = (flow: AutomationFlow) => ({ data: { id: flow.id, enabled: flow.enabled } });

export const coherenceRouter = createRouter()
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const perPage = q.per_page ?? LIMITS.DEFAULT_PAGE_SIZE;
    const page = q.page ?? 1;
    const found = await listFlows(
      c.env,
      c.get("principal").orgId,
      { schema: q.module, enabled: q.enabled === undefined ? undefined : q.enabled === "true", trigger_type: q.trigger_type },
      perPage,
      (page - 1) * perPage,
    );
    const data = found.results.map((f) => present(f));
    return c.json(asResponse(CohListSchema, { data, meta: { total: found.total, page, per_page: perPage } }), 200);
  })
  .openapi(get, async (c) => {
    const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").id, NOUN);
    return c.json(asResponse(CohDataSchema, { data: present(flow) }), 200);
  })
  .openapi(create, async (c) => {
    const b = c.req.valid("json");
    const model: CohModel = {
      name: b.name,
      description: b.description ?? null,
      enabled: b.enabled ?? false,
      trigger: b.trigger,
      conditions: b.conditions ?? [],
      actions: b.actions,
      ...(b.error_handling ? { error_handling: b.error_handling } : {}),
    };
    const token = b.trigger.type === "webhook" ? newWebhookToken() : undefined;
    const flow = await createFlow(c.env, c.get("principal"), coherenceLens.write(model, { token }), NOUN);
    return c.json(asResponse(CohDataSchema, { data: present(flow, { webhookUrl: webhookUrl(originOf(c), flow, token) }) }), 201);
  })
  .openapi(patch, async (c) => {
    const p = c.get("principal");
    const b = c.req.valid("json");
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").id, NOUN);
    const { doc: model, keep } = coherenceLens.editable(flow);
    const { hasToken, actionIds, triggerId } = keep;
    const trigger = b.trigger ?? model.trigger;
    const next: CohModel = {
      name: b.name ?? model.name,
      description: b.description !== undefined ? b.description : model.description,
      // "Updating an automation automatically disables it. Re-enable after testing your changes."
      enabled: b.enabled ?? false,
      trigger,
      conditions: b.conditions ?? model.conditions,
      actions: b.actions ?? model.actions,
      ...(b.error_handling === null
        ? {}
        : b.error_handling
          ? { error_handling: b.error_handling }
          : model.error_handling
            ? { error_handling: model.error_handling }
            : {}),
    };
    // A webhook keeps its token (stored with the trigger's id, so the id is kept; the URL stays valid when only the
    // path's name changes, and is not shown again). A trigger that becomes a webhook gets a token, shown once here.
    const keepsToken = trigger.type === "webhook" && model.trigger.type === "webhook" && hasToken === true;
    const nextToken = trigger.type === "webhook" && !keepsToken ? newWebhookToken() : undefined;
    const saved = await updateFlow(
      c.env,
      p,
      flow,
      coherenceLens.write(next, { token: nextToken, actionIds, triggerId: b.trigger && !keepsToken ? undefined : triggerId }),
      NOUN,
    );
    const showUrl = webhookUrl(originOf(c), saved, nextToken);
    return c.json(asResponse(CohDataSchema, { data: present(saved, { webhookUrl: showUrl }) }), 200);
  })
  .openapi(rotate, async (c) => {
    const p = c.get("principal");
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").id, NOUN);
    const { doc: model, keep } = coherenceLens.editable(flow);
    if (model.trigger.type !== "webhook") {
      throw new AppError(409, "NOT_A_WEBHOOK", "This automation's trigger is not a webhook: it has no URL token");
    }
    const token = newWebhookToken();
    // The same trigger id takes the new token's hash in place of the old one; nothing else changes (enabled included).
    const write = coherenceLens.write(model, { token, actionIds: keep.actionIds, triggerId: keep.triggerId });
    const saved = await updateFlow(c.env, p, flow, write, NOUN);
    return c.json({ data: { id: saved.id, webhook_url: webhookUrl(originOf(c), saved, token)! } }, 200);
  })
  .openapi(del, async (c) => {
    const { id } = c.req.valid("param");
    await removeFlow(c.env, c.get("principal").orgId, id, NOUN);
    return c.json({ data: { id, deleted: true as const } }, 200);
  })
  .openapi(toggle(true), async (c) => {
    return c.json(toggled(await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").id, true, NOUN)), 200);
  })
  .openapi(toggle(false), async (c) => {
    return c.json(toggled(await setFlowEnabledBy(c.env, c.get("principal"), c.req.valid("param").id, false, NOUN)), 200);
  })
  .route("/", runsRouter);
