import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/**
 * Records ("entities"): JSON documents of one schema in one organization. The `_` fields are the
 * server-managed envelope of epilot's EntityItemSnapshot; everything else is a user attribute.
 */

/** Entity schema names in paths: lower-case slugs. */
export const SCHEMA_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;

/**
 * Top-level attribute names. No dots (they separate path segments in queries), no leading `_`
 * (reserved for the envelope), nothing that needs quoting in a JSON path.
 */
export const ATTRIBUTE_NAME_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${LIMITS.MAX_ATTRIBUTE_NAME_LENGTH - 1}}$`);

/** Keys below the top level may also start with `_` (nested values are free-form JSON). */
export const NESTED_KEY_PATTERN = new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,${LIMITS.MAX_ATTRIBUTE_NAME_LENGTH - 1}}$`);

/** Envelope fields of a snapshot; `_title` and `_tags` are the only ones a client may write. */
export const SYSTEM_FIELDS = ["_id", "_schema", "_title", "_tags", "_org", "_created_at", "_updated_at"] as const;
export type SystemField = (typeof SYSTEM_FIELDS)[number];
export const WRITABLE_SYSTEM_FIELDS = ["_title", "_tags"] as const;

/** Attributes tried, in order, for a title when the client gives no `_title`. */
export const TITLE_ATTRIBUTES = ["title", "name", "full_name", "email"] as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Attributes = Record<string, JsonValue>;

/** A field named in a query or filter: an envelope column, or a path into the attributes. */
export type FieldRef = { kind: "system"; name: SystemField } | { kind: "attribute"; path: string[] };

/** Resolves a (possibly dotted) field name, or returns why it is not a valid field. */
export function resolveField(field: string): FieldRef | { error: string } {
  if ((SYSTEM_FIELDS as readonly string[]).includes(field)) return { kind: "system", name: field as SystemField };
  const path = field.split(".");
  if (path.length > LIMITS.MAX_FIELD_PATH_SEGMENTS) {
    return { error: `Field "${clip(field)}" has more than ${LIMITS.MAX_FIELD_PATH_SEGMENTS} segments` };
  }
  if (path[0].startsWith("_")) return { error: `Unknown system field "${clip(field)}" (known: ${SYSTEM_FIELDS.join(", ")})` };
  const ok = ATTRIBUTE_NAME_PATTERN.test(path[0]) && path.slice(1).every((s) => NESTED_KEY_PATTERN.test(s));
  if (!ok) return { error: `Invalid field name "${clip(field)}": use letters, digits, "_" and "-", separated by "."` };
  return { kind: "attribute", path };
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** True when `value` nests objects/arrays deeper than `max` levels. Iterative: a hostile value cannot blow the stack. */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

const TitleSchema = z.string().max(LIMITS.MAX_RECORD_TITLE_LENGTH);
const TagsSchema = z.array(z.string().trim().min(1).max(LIMITS.MAX_TAG_LENGTH)).max(LIMITS.MAX_RECORD_TAGS);

/** Runs the attribute checks even when `_title`/`_tags` failed, so one response names every bad field. */
const ON_ANY_OBJECT = {
  when: (payload: { value: unknown }) =>
    typeof payload.value === "object" && payload.value !== null && !Array.isArray(payload.value),
};

/** Checks every attribute key of a create/patch body; `_title`/`_tags` are typed by the object schema. */
function checkAttributes(body: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const keys = Object.keys(body);
  if (keys.length > LIMITS.MAX_RECORD_ATTRIBUTES + WRITABLE_SYSTEM_FIELDS.length) {
    ctx.addIssue({ code: "custom", path: [], message: `A record may have at most ${LIMITS.MAX_RECORD_ATTRIBUTES} attributes` });
  }
  for (const key of keys) {
    if ((WRITABLE_SYSTEM_FIELDS as readonly string[]).includes(key)) continue;
    if (key.startsWith("_")) {
      ctx.addIssue({ code: "custom", path: [key], message: `"${clip(key)}" is reserved: only _title and _tags may be written` });
    } else if (!ATTRIBUTE_NAME_PATTERN.test(key)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `Invalid attribute name: use letters, digits, "_" and "-" (at most ${LIMITS.MAX_ATTRIBUTE_NAME_LENGTH}), not starting with "_" or "-"`,
      });
    } else if (exceedsDepth(body[key], LIMITS.MAX_RECORD_DEPTH)) {
      ctx.addIssue({ code: "custom", path: [key], message: `Value nests deeper than ${LIMITS.MAX_RECORD_DEPTH} levels` });
    }
  }
}

export const CreateRecordRequest = z
  .object({
    _title: TitleSchema.optional().openapi({ description: "Title; derived from title/name/full_name/email when absent" }),
    _tags: TagsSchema.optional(),
  })
  .catchall(z.unknown())
  .superRefine(checkAttributes, ON_ANY_OBJECT)
  .openapi("CreateRecordRequest", {
    description: "The record's attributes. Names starting with `_` other than `_title` and `_tags` are refused.",
    example: { _tags: ["vip"], name: "Jane Doe", status: "active", address: { city: "Berlin" } },
  });

export const PatchRecordRequest = z
  .object({
    _title: TitleSchema.nullable().optional().openapi({ description: "`null` goes back to the derived title" }),
    _tags: TagsSchema.nullable().optional().openapi({ description: "Replaces the tags; `null` clears them" }),
  })
  .catchall(z.unknown())
  .superRefine(checkAttributes, ON_ANY_OBJECT)
  .openapi("PatchRecordRequest", {
    description: "Top-level merge: given attributes replace their old values, `null` removes an attribute, others stay.",
    example: { status: "inactive", phone: null },
  });

export const EntitySnapshotSchema = z
  .object({
    _id: z.string(),
    _title: z.string(),
    _org: z.string(),
    _schema: z.string(),
    _tags: z.array(z.string()),
    _created_at: z.string().openapi({ format: "date-time" }),
    _updated_at: z.string().openapi({ format: "date-time" }),
  })
  .catchall(z.unknown())
  .openapi("EntityItemSnapshot", { description: "A record: the `_` envelope plus its attributes" });
/** epilot's EntityItemSnapshot: the envelope plus the attributes. */
export type EntitySnapshot = {
  _id: string;
  _title: string;
  _org: string;
  _schema: string;
  _tags: string[];
  _created_at: string;
  _updated_at: string;
  [attribute: string]: unknown;
};

export const RecordSearchResultSchema = z
  .object({ total: z.number().int(), results: z.array(EntitySnapshotSchema) })
  .openapi("RecordSearchResult");

export const SchemaParam = z
  .string()
  .regex(SCHEMA_NAME_PATTERN, "Schema names are 1-64 characters of a-z, 0-9, _ and -")
  .openapi({ param: { name: "schema", in: "path" }, example: "contact" });

export const RecordSearchQuery = z.object({
  q: z
    .string()
    .max(LIMITS.MAX_QUERY_LENGTH)
    .optional()
    .openapi({ description: "Query string, e.g. `status:active AND age:>=18` (see docs/records.md)", example: "status:active" }),
  size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  from: z.coerce.number().int().min(0).max(100_000).optional(),
});

/** What a record operation changed; later work turns it into an `entity_operation` event. */
export interface RecordDiff {
  added: Attributes;
  updated: Attributes;
  deleted: Attributes;
}

export interface RecordChange {
  operation: "createEntity" | "updateEntity" | "deleteEntity" | "softDeleteEntity" | "restoreEntity";
  org_id: string;
  schema: string;
  entity_id: string;
  actor: string;
  at: string;
  before: EntitySnapshot | null;
  after: EntitySnapshot | null;
  diff: RecordDiff;
  /** Old values of the updated and deleted attributes. */
  previous: Attributes;
}
