import type { z } from "@hono/zod-openapi";
import { diffRecords, isEmptyDiff } from "../engine/record-diff";
import { parseQuery, QueryError } from "../engine/record-query";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import {
  CreateRecordRequest,
  PatchRecordRequest,
  SCHEMA_NAME_PATTERN,
  TITLE_ATTRIBUTES,
  type Attributes,
  type EntitySnapshot,
  type JsonValue,
  type RecordChange,
} from "../schemas/records";
import { queryToSql, type SqlFragment } from "../store/record-sql";
import { deleteRecordRow, getRecord, insertRecord, searchRecords, updateRecordRow, type RecordRow } from "../store/records";
import type { PreparedEvent } from "./event-queue";
import type { ChangeEvents } from "./record-events";

/**
 * The one module every record write goes through (the API, the engine's record actions, bulk reports,
 * tools). Each write returns the resulting snapshot and a RecordChange describing it. Given `events`
 * (services/record-events.ts `recordChangeEvents`), a write stores the change's event in the inbox in the
 * same D1 batch as the record and returns it, for the caller to send.
 */

export interface RecordResult {
  record: EntitySnapshot | null;
  change: RecordChange;
  /** The event stored with the write (to send), or null. */
  event: PreparedEvent | null;
}

/** The envelope fields that every write sets itself; they are not part of a diff. */
const ENVELOPE_ONLY = new Set(["_id", "_org", "_schema", "_created_at", "_updated_at"]);

export function toSnapshot(row: RecordRow): EntitySnapshot {
  return {
    _id: row.id,
    _title: row.title,
    _org: row.org_id,
    _schema: row.schema,
    _tags: row.tags,
    _created_at: row.created_at,
    _updated_at: row.updated_at,
    ...row.data,
  };
}

/** What a diff compares: the attributes plus the client-writable `_title` and `_tags`. */
function diffable(snapshot: EntitySnapshot | null): Record<string, unknown> | null {
  if (!snapshot) return null;
  return Object.fromEntries(Object.entries(snapshot).filter(([k]) => !ENVELOPE_ONLY.has(k)));
}

function changeOf(
  operation: RecordChange["operation"],
  orgId: string,
  actor: string,
  schema: string,
  id: string,
  at: string,
  before: EntitySnapshot | null,
  after: EntitySnapshot | null,
): RecordChange {
  const { added, updated, deleted, previous } = diffRecords(diffable(before), diffable(after));
  return {
    operation,
    org_id: orgId,
    schema,
    entity_id: id,
    actor,
    at,
    before,
    after,
    diff: { added, updated, deleted } as RecordChange["diff"],
    previous: previous as Attributes,
  };
}

/** Validates with the request schema here too, as the engine calls in with data that no route has checked. */
function validate<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "Invalid record",
      result.error.issues.map((i) => ({
        path: i.path.map(String).join("."),
        location: "json",
        message: i.message,
        code: i.code,
      })),
    );
  }
  return result.data;
}

function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME_PATTERN.test(schema)) {
    throw new AppError(400, "VALIDATION_ERROR", "Schema names are 1-64 characters of a-z, 0-9, _ and -", [
      { path: "schema", location: "param", message: "Invalid schema name" },
    ]);
  }
}

/** The first non-empty string among the usual title attributes, or "". */
export function deriveTitle(data: Attributes): string {
  for (const key of TITLE_ATTRIBUTES) {
    const v = data[key];
    if (typeof v === "string" && v.trim()) return v.trim().slice(0, LIMITS.MAX_RECORD_TITLE_LENGTH);
  }
  return "";
}

const uniqueTags = (tags: readonly string[]): string[] => [...new Set(tags)];

/** Splits a validated body into envelope and attributes; JSON round-trip drops `undefined` and anything non-JSON. */
function splitBody(body: Record<string, unknown>): { title?: string | null; tags?: string[] | null; attrs: Attributes } {
  const { _title, _tags, ...rest } = body as { _title?: string | null; _tags?: string[] | null } & Record<string, unknown>;
  return { title: _title, tags: _tags, attrs: JSON.parse(JSON.stringify(rest)) as Attributes };
}

function checkSize(row: Pick<RecordRow, "title" | "tags" | "data">): void {
  const bytes = new TextEncoder().encode(JSON.stringify([row.title, row.tags, row.data])).length;
  if (bytes > LIMITS.MAX_RECORD_BYTES) {
    throw new AppError(413, "PAYLOAD_TOO_LARGE", `A record may be at most ${LIMITS.MAX_RECORD_BYTES} bytes (this one: ${bytes})`);
  }
}

export async function createRecord(
  db: D1Database,
  orgId: string,
  actor: string,
  schema: string,
  input: unknown,
  events?: ChangeEvents,
): Promise<RecordResult> {
  checkSchemaName(schema);
  const { title, tags, attrs } = splitBody(validate(CreateRecordRequest, input));
  // A null attribute on create means "absent", as it does in a PATCH.
  const data = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== null)) as Attributes;
  const now = isoNow();
  const row: RecordRow = {
    id: newId(),
    org_id: orgId,
    schema,
    title: title ?? deriveTitle(data),
    tags: uniqueTags(tags ?? []),
    data,
    created_at: now,
    updated_at: now,
    created_by: actor,
    version: 1,
  };
  checkSize(row);
  const after = toSnapshot(row);
  const change = changeOf("createEntity", orgId, actor, schema, row.id, now, null, after);
  const event = events?.(change) ?? null;
  await insertRecord(db, row, event ? [event.insert] : []);
  return { record: after, change, event };
}

/** Applies a PATCH to a stored row: top-level merge, `null` removes; the title follows its source unless set. */
function applyPatch(before: RecordRow, patch: ReturnType<typeof splitBody>): Pick<RecordRow, "title" | "tags" | "data"> {
  const data: Attributes = { ...before.data };
  for (const [key, value] of Object.entries(patch.attrs)) {
    if (value === null) delete data[key];
    else data[key] = value as JsonValue;
  }
  const tags = patch.tags === undefined ? before.tags : uniqueTags(patch.tags ?? []);
  let title: string;
  if (typeof patch.title === "string") title = patch.title;
  else if (patch.title === null) title = deriveTitle(data);
  // A title equal to the derived one was derived (or may as well have been): it keeps following the attributes.
  else title = before.title === deriveTitle(before.data) ? deriveTitle(data) : before.title;
  return { title, tags, data };
}

export async function updateRecord(
  db: D1Database,
  orgId: string,
  actor: string,
  schema: string,
  id: string,
  patch: unknown,
  events?: ChangeEvents,
): Promise<RecordResult> {
  checkSchemaName(schema);
  const parts = splitBody(validate(PatchRecordRequest, patch));
  for (let attempt = 0; attempt <= LIMITS.MAX_RECORD_WRITE_RETRIES; attempt++) {
    const row = await getRecord(db, orgId, schema, id);
    if (!row) throw notFound("Record");
    if (typeof row.data[DELETED_AT] === "string") {
      throw new AppError(409, "CONFLICT", "The record is soft-deleted; restore it before changing it");
    }
    const before = toSnapshot(row);
    const next = applyPatch(row, parts);
    const now = isoNow();
    const candidate = toSnapshot({ ...row, ...next, updated_at: now });
    const change = changeOf("updateEntity", orgId, actor, schema, id, now, before, candidate);
    // Nothing changed: no write, the record keeps its _updated_at; the caller decides about events.
    if (isEmptyDiff(change.diff)) return { record: before, change: { ...change, after: before }, event: null };
    checkSize(next);
    const event = events?.(change) ?? null;
    if (await updateRecordRow(db, orgId, id, row.version, { ...next, updated_at: now }, event ? [event.insertIfChanged] : [])) {
      return { record: candidate, change, event };
    }
    // Lost a race with a concurrent write: re-read so the merge and the diff are against the latest version.
  }
  throw new AppError(409, "CONFLICT", "The record was changed concurrently too often; retry the request");
}

export async function deleteRecord(
  db: D1Database,
  orgId: string,
  actor: string,
  schema: string,
  id: string,
  events?: ChangeEvents,
): Promise<RecordResult> {
  checkSchemaName(schema);
  for (let attempt = 0; attempt <= LIMITS.MAX_RECORD_WRITE_RETRIES; attempt++) {
    // Read first: the event carries the record as it was, and is written in the batch of the delete.
    const row = await getRecord(db, orgId, schema, id);
    if (!row) throw notFound("Record");
    const change = changeOf("deleteEntity", orgId, actor, schema, id, isoNow(), toSnapshot(row), null);
    const event = events?.(change) ?? null;
    if (await deleteRecordRow(db, orgId, schema, id, row.version, event ? [event.insertIfChanged] : [])) {
      return { record: null, change, event };
    }
    // Changed (or deleted) concurrently: read again.
  }
  throw new AppError(409, "CONFLICT", "The record was changed concurrently too often; retry the request");
}

/** The attributes that mark a soft-deleted record. */
export const DELETED_AT = "_deleted_at";
export const DELETED_BY = "_deleted_by";

/**
 * Soft delete (`trashed`) and restore. A soft-deleted record stays stored and readable, marked by the
 * attributes `_deleted_at` and `_deleted_by` (clients cannot write `_` attributes, so only these operations
 * set or clear them); its event is `softDeleteEntity` / `restoreEntity`. Soft-deleting a soft-deleted
 * record, or restoring one that is not, is a 409: it would change nothing and must not fire flows.
 */
export async function setRecordTrashed(
  db: D1Database,
  orgId: string,
  actor: string,
  schema: string,
  id: string,
  trashed: boolean,
  events?: ChangeEvents,
): Promise<RecordResult> {
  checkSchemaName(schema);
  for (let attempt = 0; attempt <= LIMITS.MAX_RECORD_WRITE_RETRIES; attempt++) {
    const row = await getRecord(db, orgId, schema, id);
    if (!row) throw notFound("Record");
    if ((typeof row.data[DELETED_AT] === "string") === trashed) {
      throw new AppError(409, "CONFLICT", trashed ? "The record is already soft-deleted" : "The record is not soft-deleted");
    }
    const now = isoNow();
    const data: Attributes = { ...row.data };
    if (trashed) Object.assign(data, { [DELETED_AT]: now, [DELETED_BY]: actor });
    else for (const key of [DELETED_AT, DELETED_BY]) delete data[key];
    const next = { title: row.title, tags: row.tags, data };
    const after = toSnapshot({ ...row, ...next, updated_at: now });
    const change = changeOf(
      trashed ? "softDeleteEntity" : "restoreEntity",
      orgId,
      actor,
      schema,
      id,
      now,
      toSnapshot(row),
      after,
    );
    const event = events?.(change) ?? null;
    if (await updateRecordRow(db, orgId, id, row.version, { ...next, updated_at: now }, event ? [event.insertIfChanged] : [])) {
      return { record: after, change, event };
    }
    // Lost a race with a concurrent write: read again.
  }
  throw new AppError(409, "CONFLICT", "The record was changed concurrently too often; retry the request");
}

/** A record by id (within `schema` when given, any schema when null). */
export async function getRecordSnapshot(
  db: D1Database,
  orgId: string,
  schema: string | null,
  id: string,
): Promise<EntitySnapshot | null> {
  const row = await getRecord(db, orgId, schema, id);
  return row ? toSnapshot(row) : null;
}

/** Compiles a query string (`q`, `entities_query`) to SQL; a syntax error is a 400 naming the position. */
export function compileRecordQuery(q: string | undefined, param = "q"): SqlFragment {
  try {
    return queryToSql(parseQuery(q ?? ""));
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    throw new AppError(400, "INVALID_QUERY", `Invalid query: ${err.message}`, [
      { path: param, location: "query", message: err.message, code: `position:${err.position}` },
    ]);
  }
}

export async function searchRecordSnapshots(
  db: D1Database,
  orgId: string,
  schema: string | null,
  q: string | undefined,
  size: number,
  from: number,
): Promise<{ total: number; results: EntitySnapshot[] }> {
  const page = await searchRecords(db, orgId, schema, compileRecordQuery(q), size, from);
  return { total: page.total, results: page.results.map(toSnapshot) };
}
