import { z } from "@hono/zod-openapi";
import { notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import {
  CreateRecordRequest,
  EntitySnapshotSchema,
  PatchRecordRequest,
  RecordSearchQuery,
  RecordSearchResultSchema,
  SchemaParam,
} from "../schemas/records";
import { recordChangeEvents, sendRecordEvent } from "../services/record-events";
import {
  createRecord,
  deleteRecord,
  getRecordSnapshot,
  searchRecordSnapshots,
  setRecordTrashed,
  updateRecord,
} from "../services/records";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

const TAGS = ["Records"];
const SchemaPath = z.object({ schema: SchemaParam });
const RecordPath = z.object({ schema: SchemaParam, id: IdParam("id") });

const createRoute = scopedRoute("automations:write", {
  method: "post",
  path: "/{schema}",
  operationId: "createEntity",
  tags: TAGS,
  summary: "Create a record of a schema",
  request: { params: SchemaPath, ...jsonBody(CreateRecordRequest) },
  responses: {
    201: jsonResponse(EntitySnapshotSchema, "Created"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

const searchRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{schema}",
  operationId: "searchEntities",
  tags: TAGS,
  summary: "Search the records of a schema (query syntax in docs/records.md), newest first",
  request: { params: SchemaPath, query: RecordSearchQuery },
  responses: {
    200: jsonResponse(RecordSearchResultSchema, "A page of records and the total number of matches"),
    ...errorResponses(400, 401, 403),
  },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{schema}/{id}",
  operationId: "getEntity",
  tags: TAGS,
  summary: "Get a record",
  request: { params: RecordPath },
  responses: {
    200: jsonResponse(EntitySnapshotSchema, "The record"),
    ...errorResponses(400, 401, 403, 404),
  },
});

const patchRoute = scopedRoute("automations:write", {
  method: "patch",
  path: "/{schema}/{id}",
  operationId: "patchEntity",
  tags: TAGS,
  summary: "Update a record: top-level merge of the given attributes; null removes an attribute",
  request: { params: RecordPath, ...jsonBody(PatchRecordRequest) },
  responses: {
    200: jsonResponse(EntitySnapshotSchema, "The updated record"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/{schema}/{id}",
  operationId: "deleteEntity",
  tags: TAGS,
  summary: "Delete a record; answers with the record as it was",
  request: { params: RecordPath },
  responses: {
    200: jsonResponse(EntitySnapshotSchema, "The deleted record"),
    ...errorResponses(400, 401, 403, 404),
  },
});

const trashRoute = (trashed: boolean) =>
  scopedRoute("automations:write", {
    method: "post",
    path: trashed ? "/{schema}/{id}/soft-delete" : "/{schema}/{id}/restore",
    operationId: trashed ? "softDeleteEntity" : "restoreEntity",
    tags: TAGS,
    summary: trashed
      ? "Soft-delete a record: it stays stored, marked with _deleted_at/_deleted_by, and fires softDeleteEntity triggers"
      : "Restore a soft-deleted record: clears _deleted_at/_deleted_by and fires restoreEntity triggers",
    request: { params: RecordPath },
    responses: {
      200: jsonResponse(EntitySnapshotSchema, "The record after the operation"),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  });

export const recordsRouter = createRouter()
  .openapi(createRoute, async (c) => {
    const p = c.get("principal");
    const { schema } = c.req.valid("param");
    const result = await createRecord(c.env.DB, p.orgId, p.actor, schema, c.req.valid("json"), recordChangeEvents(c.env));
    await sendRecordEvent(result);
    return c.json(result.record!, 201);
  })
  .openapi(searchRoute, async (c) => {
    const { schema } = c.req.valid("param");
    const q = c.req.valid("query");
    const page = await searchRecordSnapshots(
      c.env.DB,
      c.get("principal").orgId,
      schema,
      q.q,
      q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      q.from ?? 0,
    );
    return c.json(page, 200);
  })
  .openapi(getRoute, async (c) => {
    const { schema, id } = c.req.valid("param");
    const record = await getRecordSnapshot(c.env.DB, c.get("principal").orgId, schema, id);
    if (!record) throw notFound("Record");
    return c.json(record, 200);
  })
  .openapi(patchRoute, async (c) => {
    const p = c.get("principal");
    const { schema, id } = c.req.valid("param");
    const result = await updateRecord(c.env.DB, p.orgId, p.actor, schema, id, c.req.valid("json"), recordChangeEvents(c.env));
    await sendRecordEvent(result);
    return c.json(result.record!, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const p = c.get("principal");
    const { schema, id } = c.req.valid("param");
    const result = await deleteRecord(c.env.DB, p.orgId, p.actor, schema, id, recordChangeEvents(c.env));
    await sendRecordEvent(result);
    return c.json(result.change.before!, 200);
  })
  .openapi(trashRoute(true), async (c) => {
    const p = c.get("principal");
    const { schema, id } = c.req.valid("param");
    const result = await setRecordTrashed(c.env.DB, p.orgId, p.actor, schema, id, true, recordChangeEvents(c.env));
    await sendRecordEvent(result);
    return c.json(result.record!, 200);
  })
  .openapi(trashRoute(false), async (c) => {
    const p = c.get("principal");
    const { schema, id } = c.req.valid("param");
    const result = await setRecordTrashed(c.env.DB, p.orgId, p.actor, schema, id, false, recordChangeEvents(c.env));
    await sendRecordEvent(result);
    return c.json(result.record!, 200);
  });
