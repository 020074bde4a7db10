import { LIMITS } from "../../lib/limits";

/** Walks every string of a JSON value (nested objects and arrays) and rebuilds the value from what `visit` returns. */

/** Where a string sits: its dotted path (`body.items.0.name`; "" for the value itself) and the path's segments. */
export interface Location {
  path: string;
  at: (string | number)[];
}

export interface LimitIssue extends Location {
  kind: "LIMIT";
  message: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Sets an own property, even one named `__proto__` (plain assignment would change the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const child = (loc: Location, key: string | number): Location => ({
  path: loc.path === "" ? String(key) : `${loc.path}.${key}`,
  at: [...loc.at, key],
});

function walkAt(
  value: unknown,
  loc: Location,
  depth: number,
  limits: LimitIssue[],
  visit: (s: string, loc: Location) => unknown,
): unknown {
  if (typeof value === "string") return visit(value, loc);
  if (depth >= LIMITS.MAX_EXPRESSION_DEPTH && (Array.isArray(value) || isPlainObject(value))) {
    limits.push({ ...loc, kind: "LIMIT", message: `nested deeper than ${LIMITS.MAX_EXPRESSION_DEPTH} levels` });
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => walkAt(item, child(loc, i), depth + 1, limits, visit));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, walkAt(value[key], child(loc, key), depth + 1, limits, visit));
    return out;
  }
  return value;
}

/** Visits each string; values nested deeper than LIMITS.MAX_EXPRESSION_DEPTH are kept as they are and reported. */
export function walkStrings(
  value: unknown,
  visit: (s: string, loc: Location) => unknown,
): { value: unknown; limits: LimitIssue[] } {
  const limits: LimitIssue[] = [];
  const out = walkAt(value, { path: "", at: [] }, 0, limits, visit);
  return { value: out, limits };
}
