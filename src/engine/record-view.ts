/**
 * The record as conditions and templates see it: the stored snapshot (`_id`, `_created_at`, ... and the attributes)
 * plus plain aliases of the envelope fields, so `{{ record.id }}` and `{{ record.created_at }}` work as users expect
 * (Coherence and most automation tools name them so).
 *
 * The aliases are own but non-enumerable properties: lookups (Liquid with `ownPropertyOnly`, condition paths) find
 * them, while `{{ record }}`, `{% for %}` over the record and JSON serialization show the snapshot unchanged.
 * An attribute of the same name (a record with its own `id` or `title`) is never overwritten.
 */

/** Plain alias → envelope field (docs/records.md lists the envelope). */
export const RECORD_ALIASES: Readonly<Record<string, string>> = {
  id: "_id",
  schema: "_schema",
  title: "_title",
  tags: "_tags",
  org: "_org",
  created_at: "_created_at",
  updated_at: "_updated_at",
};

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function recordView<T extends Record<string, unknown> | null | undefined>(entity: T): T {
  if (entity === null || entity === undefined) return entity;
  const aliases = Object.entries(RECORD_ALIASES).filter(([alias, field]) => !hasOwn(entity, alias) && hasOwn(entity, field));
  if (aliases.length === 0) return entity;
  // Spread defines own properties, so an attribute named `__proto__` stays plain data.
  const view: Record<string, unknown> = { ...entity };
  for (const [alias, field] of aliases) {
    Object.defineProperty(view, alias, { value: entity[field], enumerable: false, writable: false, configurable: false });
  }
  return view as T;
}

/** The `entity` and `record` roots of an evaluation context: one view, under both names. */
export function recordRoots(entity: Record<string, unknown> | null): {
  entity: Record<string, unknown> | null;
  record: Record<string, unknown> | undefined;
} {
  const view = recordView(entity);
  return { entity: view, record: view ?? undefined };
}

/** A trigger event whose `entity` (when it has one) is read through the view, for TriggerConditions. */
export function withRecordView(event: Record<string, unknown>): Record<string, unknown> {
  const entity = event.entity;
  if (entity === null || typeof entity !== "object" || Array.isArray(entity)) return event;
  return { ...event, entity: recordView(entity as Record<string, unknown>) };
}
