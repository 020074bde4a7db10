import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "../../api/router";
import { AppError, badRequest, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { isoNow } from "../../lib/time";
import { IdParam } from "../../schemas/common";
import { requireFlow } from "../../services/flows";
import { mutate, present } from "./automations";
import {
  NOUN,
  TP_ROW_SOURCE_TYPES,
  TRUSTPAGER_TAG,
  TpActionCreateSchema,
  TpActionListSchema,
  TpActionPatchSchema,
  TpActionSchema,
  TpDeletedSchema,
  TpReorderSchema,
  TpTriggerCreateSchema,
  TpTriggerListSchema,
  TpTriggerPatchSchema,
  TpTriggerSchema,
} from "./schemas";
import type { TpModel, TpRow } from "./translate";

/**
 * TrustPager's triggers and actions sub-resources. Each write loads the automation's TrustPager model, changes
 * the one row and saves the whole automation (one versioned flow write: a concurrent change is a 409).
 */

/** Relative to the TrustPager mount point (/api/v1/automations). */
const BASE = "/{id}";
const TAGS = [TRUSTPAGER_TAG];
const Id = IdParam("id").openapi({ description: "The automation's id" });
const TriggerParams = z.object({ id: Id, triggerId: IdParam("triggerId") });
const ActionParams = z.object({ id: Id, actionId: IdParam("actionId") });

/** The row's source_type: the one sent, else the automation's trigger_type; stage_changed and unknown types are a 400. */
function sourceTypeOf(sent: string | undefined, m: TpModel): TpRow["source_type"] {
  const type = sent ?? m.trigger_type;
  if (type === "stage_changed") {
    throw badRequest(
      "stage_changed automations take no trigger rows: set stage_id on the automation (PATCH /automations/:id) instead",
      [{ path: "source_type", location: "json", message: "stage_changed trigger rows are rejected" }],
    );
  }
  if (type === "form_submitted") {
    throw badRequest('source_type "form_submitted" is deprecated and rejected: use "form_completed"', [
      { path: "source_type", location: "json", message: 'use "form_completed"' },
    ]);
  }
  if (!(TP_ROW_SOURCE_TYPES as readonly string[]).includes(type)) {
    throw badRequest(`Unknown source_type "${type.slice(0, 100)}"`, [
      { path: "source_type", location: "json", message: `known: ${TP_ROW_SOURCE_TYPES.join(", ")}` },
    ]);
  }
  return type as TpRow["source_type"];
}

const find = <T extends { id: string }>(items: T[], id: string, what: string): T => {
  const item = items.find((i) => i.id === id);
  if (!item) throw notFound(what);
  return item;
};

const listTriggers = scopedRoute("automations:read", {
  method: "get",
  path: `${BASE}/triggers`,
  operationId: "trustpagerListTriggers",
  tags: TAGS,
  summary: "List triggers for an automation",
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(TpTriggerListSchema, "Triggers"), ...errorResponses(404) },
});
const addTrigger = scopedRoute("automations:write", {
  method: "post",
  path: `${BASE}/triggers`,
  operationId: "trustpagerAddTrigger",
  tags: TAGS,
  summary: "Add a trigger; source_type defaults to the automation's trigger_type; stage_changed rows are a 400",
  request: { params: z.object({ id: Id }), ...jsonBody(TpTriggerCreateSchema) },
  responses: { 201: jsonResponse(TpTriggerSchema, "The trigger"), ...errorResponses(400, 404, 409) },
});
const patchTrigger = scopedRoute("automations:write", {
  method: "patch",
  path: `${BASE}/triggers/{triggerId}`,
  operationId: "trustpagerUpdateTrigger",
  tags: TAGS,
  summary: "Update a trigger",
  request: { params: TriggerParams, ...jsonBody(TpTriggerPatchSchema) },
  responses: { 200: jsonResponse(TpTriggerSchema, "The trigger"), ...errorResponses(400, 404, 409) },
});
const deleteTrigger = scopedRoute("automations:write", {
  method: "delete",
  path: `${BASE}/triggers/{triggerId}`,
  operationId: "trustpagerDeleteTrigger",
  tags: TAGS,
  summary: "Delete a trigger from an automation",
  request: { params: TriggerParams },
  responses: { 200: jsonResponse(TpDeletedSchema, "Deleted"), ...errorResponses(404, 409) },
});

const listActions = scopedRoute("automations:read", {
  method: "get",
  path: `${BASE}/actions`,
  operationId: "trustpagerListActions",
  tags: TAGS,
  summary: "List actions for an automation, ordered by sequence",
  request: { params: z.object({ id: Id }) },
  responses: { 200: jsonResponse(TpActionListSchema, "Actions"), ...errorResponses(404) },
});
const addAction = scopedRoute("automations:write", {
  method: "post",
  path: `${BASE}/actions`,
  operationId: "trustpagerAddAction",
  tags: TAGS,
  summary: "Add an action; action_type and sequence are required",
  request: { params: z.object({ id: Id }), ...jsonBody(TpActionCreateSchema) },
  responses: { 201: jsonResponse(TpActionSchema, "The action"), ...errorResponses(400, 404, 409) },
});
const reorder = scopedRoute("automations:write", {
  method: "post",
  path: `${BASE}/actions/reorder`,
  operationId: "trustpagerReorderActions",
  tags: TAGS,
  summary: "Reorder actions: every action id in the new order; sequences become 1, 2, 3 …",
  request: { params: z.object({ id: Id }), ...jsonBody(TpReorderSchema) },
  responses: { 200: jsonResponse(TpActionListSchema, "The actions in their new order"), ...errorResponses(400, 404, 409) },
});
const patchAction = scopedRoute("automations:write", {
  method: "patch",
  path: `${BASE}/actions/{actionId}`,
  operationId: "trustpagerUpdateAction",
  tags: TAGS,
  summary: "Update an action",
  request: { params: ActionParams, ...jsonBody(TpActionPatchSchema) },
  responses: { 200: jsonResponse(TpActionSchema, "The action"), ...errorResponses(400, 404, 409) },
});
const deleteAction = scopedRoute("automations:write", {
  method: "delete",
  path: `${BASE}/actions/{actionId}`,
  operationId: "trustpagerDeleteAction",
  tags: TAGS,
  summary: "Delete an action from an automation",
  request: { params: ActionParams },
  responses: { 200: jsonResponse(TpDeletedSchema, "Deleted"), ...errorResponses(404, 409) },
});

type Saved = Awaited<ReturnType<typeof mutate>>;
const triggerOf = (saved: Saved, id: string) => asResponse(TpTriggerSchema, find(saved.triggers, id, "Trigger"));
const actionOf = (saved: Saved, id: string) => asResponse(TpActionSchema, find(saved.actions, id, "Action"));

export const subResourcesRouter = createRouter()
  .openapi(listTriggers, async (c) => {
    const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").id, NOUN);
    return c.json(asResponse(TpTriggerListSchema, { data: present(flow).triggers }), 200);
  })
  .openapi(addTrigger, async (c) => {
    const b = c.req.valid("json");
    const rowId = b.id ?? newId();
    const saved = await mutate(c.env, c.get("principal"), c.req.valid("param").id, (m) => {
      if (m.triggers.some((t) => t.id === rowId)) throw new AppError(409, "CONFLICT", `A trigger with id "${rowId}" exists`);
      m.triggers.push({
        id: rowId,
        source_type: sourceTypeOf(b.source_type, m),
        source_id: b.source_id ?? null,
        config: b.config ?? {},
        created_at: isoNow(),
      });
    });
    return c.json(triggerOf(saved, rowId), 201);
  })
  .openapi(patchTrigger, async (c) => {
    const b = c.req.valid("json");
    const { id, triggerId } = c.req.valid("param");
    const saved = await mutate(c.env, c.get("principal"), id, (m) => {
      const row = find(m.triggers, triggerId, "Trigger");
      if (b.source_type !== undefined) row.source_type = sourceTypeOf(b.source_type, m);
      if (b.source_id !== undefined) row.source_id = b.source_id;
      if (b.config !== undefined) row.config = b.config;
    });
    return c.json(triggerOf(saved, triggerId), 200);
  })
  .openapi(deleteTrigger, async (c) => {
    const { id, triggerId } = c.req.valid("param");
    await mutate(c.env, c.get("principal"), id, (m) => {
      find(m.triggers, triggerId, "Trigger");
      m.triggers = m.triggers.filter((t) => t.id !== triggerId);
    });
    return c.json({ id: triggerId, deleted: true as const }, 200);
  })
  .openapi(listActions, async (c) => {
    const flow = await requireFlow(c.env, c.get("principal").orgId, c.req.valid("param").id, NOUN);
    return c.json(asResponse(TpActionListSchema, { data: present(flow).actions }), 200);
  })
  .openapi(addAction, async (c) => {
    const b = c.req.valid("json");
    const actionId = b.id ?? newId();
    const saved = await mutate(c.env, c.get("principal"), c.req.valid("param").id, (m) => {
      if (m.actions.some((a) => a.id === actionId)) throw new AppError(409, "CONFLICT", `An action with id "${actionId}" exists`);
      m.actions.push({ id: actionId, action_type: b.action_type, sequence: b.sequence, name: b.name ?? null, config: b.config });
    });
    return c.json(actionOf(saved, actionId), 201);
  })
  // Before /actions/{actionId}: "reorder" is not an action id.
  .openapi(reorder, async (c) => {
    const { action_ids } = c.req.valid("json");
    const saved = await mutate(c.env, c.get("principal"), c.req.valid("param").id, (m) => {
      const known = new Set(m.actions.map((a) => a.id));
      if (action_ids.length !== known.size || new Set(action_ids).size !== known.size || action_ids.some((a) => !known.has(a))) {
        throw badRequest("action_ids must list every action of the automation exactly once", [
          { path: "action_ids", location: "json", message: `expected a permutation of: ${[...known].join(", ")}` },
        ]);
      }
      m.actions = action_ids.map((aid, i) => ({ ...find(m.actions, aid, "Action"), sequence: i + 1 }));
    });
    return c.json(asResponse(TpActionListSchema, { data: saved.actions }), 200);
  })
  .openapi(patchAction, async (c) => {
    const b = c.req.valid("json");
    const { id, actionId } = c.req.valid("param");
    const saved = await mutate(c.env, c.get("principal"), id, (m) => {
      const action = find(m.actions, actionId, "Action");
      if (b.action_type !== undefined) action.action_type = b.action_type;
      if (b.sequence !== undefined) action.sequence = b.sequence;
      if (b.name !== undefined) action.name = b.name;
      if (b.config !== undefined) action.config = b.config;
    });
    return c.json(actionOf(saved, actionId), 200);
  })
  .openapi(deleteAction, async (c) => {
    const { id, actionId } = c.req.valid("param");
    await mutate(c.env, c.get("principal"), id, (m) => {
      find(m.actions, actionId, "Action");
      m.actions = m.actions.filter((a) => a.id !== actionId);
    });
    return c.json({ id: actionId, deleted: true as const }, 200);
  });
