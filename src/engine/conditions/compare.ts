import { DAY_MS, toInstant } from "./dates";

/**
 * Typed scalar comparison. A kind says how both sides are read:
 * - `number`: JS numbers or numeric strings (trimmed, finite); anything else is "not a number".
 * - `datetime`: instants (ISO-8601 strings, offsets honoured, no offset = UTC; epoch ms numbers).
 * - `date`: like datetime, truncated to the UTC calendar day.
 * - `boolean`: true/false, "true"/"false" (any case), 1/0, "1"/"0".
 * - `string`: text, trimmed; numbers and booleans are compared by their text.
 * - `auto`: decided per comparison from the values (see resolveKind).
 */
export type ValueKind = "string" | "number" | "date" | "datetime" | "boolean" | "auto";
export type ConcreteKind = Exclude<ValueKind, "auto">;
type Scalar = string | number | boolean;

export type Coerced = { ok: true; v: Scalar } | { ok: false; reason: string };

const describe = (v: unknown): string => {
  if (v === undefined) return "missing";
  const s = typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

export function toNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string") {
    const t = value.trim();
    if (t === "") return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function toBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") {
    const t = value.trim().toLowerCase();
    if (t === "true" || t === "1") return true;
    if (t === "false" || t === "0") return false;
  }
  return null;
}

export function coerce(value: unknown, kind: ConcreteKind): Coerced {
  switch (kind) {
    case "number": {
      const n = toNumber(value);
      return n === null ? { ok: false, reason: `${describe(value)} is not a number` } : { ok: true, v: n };
    }
    case "boolean": {
      const b = toBoolean(value);
      return b === null ? { ok: false, reason: `${describe(value)} is not a boolean` } : { ok: true, v: b };
    }
    case "date":
    case "datetime": {
      const t = toInstant(value);
      if (!t) return { ok: false, reason: `${describe(value)} is not an ISO-8601 date` };
      return { ok: true, v: kind === "date" ? Math.floor(t.ms / DAY_MS) : t.ms };
    }
    case "string":
      if (typeof value === "string") return { ok: true, v: value.trim() };
      if (typeof value === "number" || typeof value === "boolean") return { ok: true, v: String(value) };
      return { ok: false, reason: `${describe(value)} is not text` };
  }
}

const isIsoLike = (v: unknown) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v.trim()) && toInstant(v) !== null;

/**
 * `auto` resolution: a JS number on either side makes it numeric (when both sides read as numbers), a JS boolean
 * makes it boolean; orderings also use numbers when both sides are numeric strings, then instants when both are
 * ISO dates; otherwise text.
 */
export function resolveKind(kind: ValueKind, actual: unknown, expected: unknown, ordering: boolean): ConcreteKind {
  if (kind !== "auto") return kind;
  const bothNumeric = toNumber(actual) !== null && toNumber(expected) !== null;
  if ((typeof actual === "number" || typeof expected === "number") && bothNumeric) return "number";
  if (
    (typeof actual === "boolean" || typeof expected === "boolean") &&
    toBoolean(actual) !== null &&
    toBoolean(expected) !== null
  )
    return "boolean";
  if (ordering) {
    if (bothNumeric) return "number";
    if (isIsoLike(actual) && isIsoLike(expected)) return "datetime";
  }
  return "string";
}

export interface CompareResult {
  /** -1, 0, 1; null when the values cannot be compared. */
  order: number | null;
  error?: string;
}

/** Equality of two scalars under a kind; strings compare case-sensitively unless `caseInsensitive`. */
export function scalarEquals(actual: unknown, expected: unknown, kind: ValueKind, caseInsensitive: boolean): CompareResult {
  const k = resolveKind(kind, actual, expected, false);
  const a = coerce(actual, k);
  if (!a.ok) return { order: null, error: `actual value ${a.reason}` };
  const e = coerce(expected, k);
  if (!e.ok) return { order: null, error: `expected value ${e.reason}` };
  if (k === "string" && caseInsensitive) return { order: fold(a.v as string) === fold(e.v as string) ? 0 : 1 };
  return { order: a.v === e.v ? 0 : 1 };
}

/** Ordering of two scalars; booleans cannot be ordered. */
export function scalarCompare(actual: unknown, expected: unknown, kind: ValueKind): CompareResult {
  const k = resolveKind(kind, actual, expected, true);
  if (k === "boolean") return { order: null, error: "booleans cannot be ordered" };
  const a = coerce(actual, k);
  if (!a.ok) return { order: null, error: `actual value ${a.reason}` };
  const e = coerce(expected, k);
  if (!e.ok) return { order: null, error: `expected value ${e.reason}` };
  return { order: a.v < e.v ? -1 : a.v > e.v ? 1 : 0 };
}

export type TextOp = "contains" | "starts_with" | "ends_with";

/** Text search, always case-insensitive; numbers and booleans are searched as their text. */
export function textMatch(actual: unknown, expected: unknown, op: TextOp): CompareResult {
  const a = coerce(actual, "string");
  if (!a.ok) return { order: null, error: `actual value ${a.reason}` };
  const e = coerce(expected, "string");
  if (!e.ok) return { order: null, error: `expected value ${e.reason}` };
  const hay = fold(a.v as string);
  const needle = fold(e.v as string);
  const hit = op === "contains" ? hay.includes(needle) : op === "starts_with" ? hay.startsWith(needle) : hay.endsWith(needle);
  return { order: hit ? 0 : 1 };
}

/** Case folding for case-insensitive comparison (locale-independent). */
export const fold = (s: string): string => s.toLowerCase();

/** Deep equality of JSON values (objects by keys, arrays by order). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as never)[k], (b as never)[k]));
}

/**
 * Emptiness: missing, null, whitespace-only text, an empty array, an object without keys, and an epilot relation
 * without related entities (`{ $relation: [] }`). Numbers (0 included) and booleans are never empty.
 */
export function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === "string") return v.trim() === "";
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") {
    const rel = (v as Record<string, unknown>).$relation;
    if (Array.isArray(rel)) return rel.length === 0;
    return Object.keys(v).length === 0;
  }
  return false;
}
