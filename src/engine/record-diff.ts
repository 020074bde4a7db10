/**
 * Differences between two versions of a record's top-level attributes, shaped like the `diff` of an
 * epilot entity_operation event: `added`/`updated` hold new values, `deleted` holds the removed values,
 * `previous` holds the old values of everything updated or deleted.
 */

export interface AttributeDiff {
  added: Record<string, unknown>;
  updated: Record<string, unknown>;
  deleted: Record<string, unknown>;
  previous: Record<string, unknown>;
}

type Attrs = Readonly<Record<string, unknown>>;

/** Structural equality of JSON-like values: object key order does not matter, array order does. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    // NaN is not JSON, but equal to itself here so a value never "changes" into itself.
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Attrs)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Attrs)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Attrs)[k], (b as Attrs)[k]));
}

/** An attribute whose value is `undefined` counts as absent, as it would after JSON serialization. */
const present = (m: Attrs | null | undefined, k: string): boolean =>
  m != null && Object.prototype.hasOwnProperty.call(m, k) && m[k] !== undefined;

/** Plain assignment would treat a key "__proto__" as the prototype; define it as a data property instead. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Compares the top-level attributes of `before` and `after` (either may be null: create / delete). */
export function diffRecords(before: Attrs | null | undefined, after: Attrs | null | undefined): AttributeDiff {
  const out: AttributeDiff = { added: {}, updated: {}, deleted: {}, previous: {} };
  const b = before ?? {};
  const a = after ?? {};
  for (const key of Object.keys(a)) {
    if (!present(a, key)) continue;
    if (!present(b, key)) put(out.added, key, a[key]);
    else if (!deepEqual(b[key], a[key])) {
      put(out.updated, key, a[key]);
      put(out.previous, key, b[key]);
    }
  }
  for (const key of Object.keys(b)) {
    if (present(b, key) && !present(a, key)) {
      put(out.deleted, key, b[key]);
      put(out.previous, key, b[key]);
    }
  }
  return out;
}

/** True when the diff records no change at all. */
export const isEmptyDiff = (d: Pick<AttributeDiff, "added" | "updated" | "deleted">): boolean =>
  Object.keys(d.added).length === 0 && Object.keys(d.updated).length === 0 && Object.keys(d.deleted).length === 0;
