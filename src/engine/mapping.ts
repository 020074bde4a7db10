import { lookupPath } from "./execution/context";
import type { RelationRef } from "./relations";

/**
 * epilot's entity mapping, the pure part: attribute operations (MappingAttributeV2 `_set`/`_copy`/`_append` with
 * `_uniq`, and the v1 modes) applied to a target's attributes, and relation attributes written from the relations
 * picked on the source record. map-entity and cart-checkout load the records and write the result.
 */

type Attrs = Record<string, unknown>;

export interface V1Mapping {
  mode: "copy_if_exists" | "append_if_exists" | "set_value";
  target: string;
  source?: string;
  value?: unknown;
  value_json?: string;
}
export interface V2Mapping {
  target: string;
  operation: Record<string, unknown>;
}
export type Mapping = V1Mapping | V2Mapping;

const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** `_uniq: true` (whole values) or a list of keys that make two objects the same. */
function uniq(xs: unknown[], by: unknown): unknown[] {
  const key = (x: unknown) =>
    Array.isArray(by) && x && typeof x === "object" ? JSON.stringify(by.map((k) => (x as Attrs)[String(k)])) : JSON.stringify(x);
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Applies one mapping to `target`. v1 modes: set_value (value), copy_if_exists (source path of the source record,
 * skipped when absent), append_if_exists (source value or value_json appended). v2 operations: `_set`, `_copy`
 * (source path), `_append` (values), with `_uniq`. Throws on a malformed `value_json`.
 */
export function applyMapping(target: Attrs, source: Attrs, m: Mapping): void {
  if ("operation" in m) {
    const op = m.operation;
    if ("_set" in op) target[m.target] = op._set;
    if (typeof op._copy === "string") {
      const v = lookupPath(source, op._copy);
      if (v !== undefined) target[m.target] = v;
    }
    if ("_append" in op) {
      const next = [...asArray(target[m.target]), ...asArray(op._append)];
      target[m.target] = op._uniq ? uniq(next, op._uniq) : next;
    }
    return;
  }
  if (m.mode === "set_value") target[m.target] = m.value;
  else if (m.mode === "copy_if_exists") {
    const v = m.source ? lookupPath(source, m.source) : undefined;
    if (v !== undefined) target[m.target] = v;
  } else {
    const add = m.value_json !== undefined ? JSON.parse(m.value_json) : m.source ? lookupPath(source, m.source) : undefined;
    if (add !== undefined) target[m.target] = [...asArray(target[m.target]), ...asArray(add)];
  }
}

export interface RelationAttributeSpec {
  target: string;
  mode: "append" | "prepend" | "set";
  target_tags?: string[];
  target_tags_include_source?: boolean;
  source_filter?: { limit?: number; schema?: string; attribute?: string; relation_tag?: string; tag?: string; self?: boolean };
}

/** A relation candidate with what the filters need of the related record (its schema and tags, when loaded). */
export interface RelationCandidate extends RelationRef {
  record?: { schema: string; tags: string[] };
}

export interface RelationItem {
  entity_id: string;
  _schema?: string;
  _tags?: string[];
}

/** The relations a relation attribute picks among the candidates (the source record's, or the record itself). */
export function pickRelations(
  spec: RelationAttributeSpec,
  candidates: RelationCandidate[],
  self: RelationCandidate | null,
): RelationItem[] {
  const f = spec.source_filter ?? {};
  const picked = f.self
    ? self
      ? [self]
      : []
    : candidates.filter(
        (c) =>
          (!f.attribute || c.attribute === f.attribute) &&
          (!f.relation_tag || c.tags.includes(f.relation_tag)) &&
          (!f.schema || (c.record?.schema ?? c.schema) === f.schema) &&
          (!f.tag || (c.record?.tags ?? []).includes(f.tag)),
      );
  const limited = f.limit ? picked.slice(0, f.limit) : picked;
  return limited.map((c) => {
    const tags = [...(spec.target_tags ?? []), ...(spec.target_tags_include_source ? c.tags : [])];
    const schema = c.record?.schema ?? c.schema;
    return {
      entity_id: c.entity_id,
      ...(schema ? { _schema: schema } : {}),
      ...(tags.length ? { _tags: [...new Set(tags)] } : {}),
    };
  });
}

/** The attribute's new value: `set` replaces, `append`/`prepend` add to the existing relations (each entity once). */
export function relationValue(mode: RelationAttributeSpec["mode"], existing: unknown, items: RelationItem[]): RelationItem[] {
  const before = (Array.isArray(existing) ? existing : []).filter(
    (x): x is RelationItem => !!x && typeof x === "object" && typeof (x as RelationItem).entity_id === "string",
  );
  const merged = mode === "set" ? items : mode === "append" ? [...before, ...items] : [...items, ...before];
  const seen = new Set<string>();
  return merged.filter((x) => (seen.has(x.entity_id) ? false : (seen.add(x.entity_id), true)));
}
