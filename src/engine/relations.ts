/**
 * Relations of a record, as epilot writes them: an attribute holding `[{entity_id, _schema?, _tags?}]` (what
 * map-entity's linkback writes) or `{"$relation": [{entity_id, _tags?}]}`. Pure: the caller loads the records.
 */

export interface RelationRef {
  /** The attribute of the main record holding the relation. */
  attribute: string;
  entity_id: string;
  schema?: string;
  tags: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function refsOf(attribute: string, value: unknown): RelationRef[] {
  const items = isObject(value) && Array.isArray(value.$relation) ? value.$relation : Array.isArray(value) ? value : [];
  const refs: RelationRef[] = [];
  for (const item of items) {
    if (!isObject(item) || typeof item.entity_id !== "string" || !item.entity_id) continue;
    refs.push({
      attribute,
      entity_id: item.entity_id,
      schema: typeof item._schema === "string" ? item._schema : undefined,
      tags: Array.isArray(item._tags) ? item._tags.filter((t): t is string => typeof t === "string") : [],
    });
  }
  return refs;
}

/** Every relation of the record (all attributes, or only `attribute`), in attribute order, without duplicates. */
export function relationRefs(entity: Record<string, unknown> | null, attribute?: string): RelationRef[] {
  if (!entity) return [];
  const keys = attribute === undefined ? Object.keys(entity) : [attribute];
  const seen = new Set<string>();
  const out: RelationRef[] = [];
  for (const key of keys) {
    for (const ref of refsOf(key, entity[key])) {
      if (seen.has(`${ref.attribute}\u0000${ref.entity_id}`)) continue;
      seen.add(`${ref.attribute}\u0000${ref.entity_id}`);
      out.push(ref);
    }
  }
  return out;
}
