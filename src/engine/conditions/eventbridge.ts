import { fold } from "./compare";
import type { Lookup } from "./paths";
import { type StatementResult, reported } from "./types";

/**
 * EventBridge-style event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
 * a pattern object's keys are ANDed; a key holds a list of leaf patterns (ORed), a nested pattern object, or `$or`.
 * A list value in the event matches when one of its items matches. Only present leaf values match anything but
 * `{exists: false}`; an object value is an intermediate node, not a leaf. Deviation (documented): a non-empty array
 * of objects counts as present for `exists`, because epilot's repeatable attributes are arrays of objects.
 */

export type Pattern = Record<string, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** A key is looked up literally first, then as a dotted path (`'added.first_name'` in the epilot document). */
export function resolveKey(value: unknown, key: string): Lookup {
  if (!isObject(value)) return { found: false, value: undefined };
  if (hasOwn(value, key)) return { found: true, value: value[key] };
  if (!key.includes(".")) return { found: false, value: undefined };
  let cur: unknown = value;
  for (const part of key.split(".")) {
    if (!isObject(cur) || !hasOwn(cur, part)) return { found: false, value: undefined };
    cur = cur[part];
  }
  return { found: true, value: cur };
}

/** Matches a pattern object against a value, appending one explanation line per leaf to `out`. */
export function matchObject(pattern: Pattern, value: unknown, path: string, out: StatementResult[]): boolean {
  let all = true;
  for (const key of Object.keys(pattern)) {
    const sub = pattern[key];
    let ok: boolean;
    if (key === "$or") {
      const branches = Array.isArray(sub) ? sub : [];
      ok = branches.map((b) => isObject(b) && matchObject(b, value, path, out)).some(Boolean);
    } else {
      const field = path ? `${path}.${key}` : key;
      const found = resolveKey(value, key);
      if (Array.isArray(sub)) ok = matchLeaf(sub, found, field, out);
      else if (isObject(sub)) ok = matchNested(sub, found, field, out);
      else ok = false;
    }
    all &&= ok;
  }
  return all;
}

/** A nested pattern over an array of objects matches when one element matches the whole sub-pattern. */
function matchNested(sub: Pattern, found: Lookup, field: string, out: StatementResult[]): boolean {
  if (!Array.isArray(found.value)) return matchObject(sub, found.value, field, out);
  let last: StatementResult[] = [];
  for (const item of found.value) {
    const lines: StatementResult[] = [];
    if (matchObject(sub, item, field, lines)) {
      out.push(...lines);
      return true;
    }
    last = lines;
  }
  if (found.value.length === 0) matchObject(sub, undefined, field, last);
  out.push(...last);
  return false;
}

/** The leaf values of an event field: scalars, or the scalar items of a list; objects are intermediate nodes. */
function leavesOf(found: Lookup): { leaves: unknown[]; present: boolean } {
  if (!found.found) return { leaves: [], present: false };
  const v = found.value;
  if (Array.isArray(v)) {
    const leaves = v.flat(8).filter((x) => !isObject(x));
    return { leaves, present: v.length > 0 };
  }
  if (isObject(v)) return { leaves: [], present: false };
  return { leaves: [v], present: true };
}

export function matchLeaf(patterns: unknown[], found: Lookup, field: string, out: StatementResult[]): boolean {
  const { leaves, present } = leavesOf(found);
  const passed = patterns.some((p) => matchPattern(p, leaves, present));
  out.push({ field, operator: patternOperator(patterns), value: patterns, actual_value: reported(found.value), passed });
  return passed;
}

function patternOperator(patterns: unknown[]): string {
  const names = new Set(patterns.map((p) => (isObject(p) ? (Object.keys(p)[0] ?? "?") : "equals")));
  return [...names].join("|");
}

function literalEquals(p: unknown, v: unknown): boolean {
  if (p === null) return v === null;
  if (typeof p === "number") return typeof v === "number" && v === p;
  return v === p;
}

function matchPattern(p: unknown, leaves: unknown[], present: boolean): boolean {
  if (!isObject(p)) return leaves.some((v) => literalEquals(p, v));
  const [op] = Object.keys(p);
  const arg = p[op];
  const strings = leaves.filter((v): v is string => typeof v === "string");
  switch (op) {
    case "exists":
      return arg === present;
    case "prefix":
    case "suffix":
      return strings.some((s) => affixMatch(s, arg, op));
    case "equals-ignore-case":
      return typeof arg === "string" && strings.some((s) => fold(s) === fold(arg));
    case "wildcard":
      return typeof arg === "string" && strings.some((s) => wildcardMatch(arg, s));
    case "numeric":
      return Array.isArray(arg) && leaves.some((v) => typeof v === "number" && numericMatch(v, arg));
    case "cidr":
      return typeof arg === "string" && strings.some((s) => cidrMatch(s, arg));
    case "anything-but":
      return leaves.some((v) => !excluded(v, arg));
    default:
      return false;
  }
}

function affixMatch(s: string, arg: unknown, op: "prefix" | "suffix"): boolean {
  let needle: string;
  let ignoreCase = false;
  if (typeof arg === "string") needle = arg;
  else if (isObject(arg) && typeof arg["equals-ignore-case"] === "string") {
    needle = arg["equals-ignore-case"];
    ignoreCase = true;
  } else return false;
  const hay = ignoreCase ? fold(s) : s;
  const n = ignoreCase ? fold(needle) : needle;
  return op === "prefix" ? hay.startsWith(n) : hay.endsWith(n);
}

/** Whether `anything-but` excludes the value. */
function excluded(v: unknown, arg: unknown): boolean {
  if (!isObject(arg)) return (Array.isArray(arg) ? arg : [arg]).some((x) => literalEquals(x, v));
  if (typeof v !== "string") return false;
  const [op] = Object.keys(arg);
  const inner = arg[op];
  const list = (Array.isArray(inner) ? inner : [inner]).filter((x): x is string => typeof x === "string");
  switch (op) {
    case "prefix":
    case "suffix":
      return list.some((x) => affixMatch(v, x, op));
    case "equals-ignore-case":
      return list.some((x) => fold(x) === fold(v));
    case "wildcard":
      return list.some((x) => wildcardMatch(x, v));
    default:
      return false;
  }
}

export const NUMERIC_OPS = ["<", "<=", "=", ">", ">="] as const;

const toNum = (x: unknown): number => (typeof x === "number" ? x : typeof x === "string" && x.trim() !== "" ? Number(x) : NaN);

function numericMatch(v: number, spec: unknown[]): boolean {
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const n = toNum(spec[i + 1]);
    if (!Number.isFinite(n)) return false;
    const ok =
      spec[i] === "<"
        ? v < n
        : spec[i] === "<="
          ? v <= n
          : spec[i] === "="
            ? v === n
            : spec[i] === ">"
              ? v > n
              : spec[i] === ">="
                ? v >= n
                : false;
    if (!ok) return false;
  }
  return spec.length >= 2;
}

/** Counts a match's character comparisons (tests prove with it that the work is linear). */
export interface MatchMeter {
  steps: number;
}

/** A wildcard pattern cut at its stars: the literal pieces, each with its KMP failure table. */
interface Wildcard {
  pieces: string[];
  tables: Int32Array[];
}

const wildcardCache = new Map<string, Wildcard>();

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function compileWildcard(pattern: string): Wildcard {
  let w = wildcardCache.get(pattern);
  if (w) return w;
  const pieces: string[] = [];
  let cur = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) cur += pattern[++i];
    else if (c === "*") {
      pieces.push(cur);
      cur = "";
    } else cur += c;
  }
  pieces.push(cur);
  w = { pieces, tables: pieces.map(failureTable) };
  if (wildcardCache.size > 500) wildcardCache.clear();
  wildcardCache.set(pattern, w);
  return w;
}

/** KMP: for each prefix of `piece`, the length of its longest proper prefix that is also a suffix. */
function failureTable(piece: string): Int32Array {
  const t = new Int32Array(piece.length);
  for (let i = 1, k = 0; i < piece.length; i++) {
    while (k > 0 && piece[i] !== piece[k]) k = t[k - 1];
    if (piece[i] === piece[k]) k++;
    t[i] = k;
  }
  return t;
}

/** The first index ≥ from where `piece` occurs in s and ends by `end`, or -1; each character of s is read O(1) times. */
function findPiece(s: string, piece: string, table: Int32Array, from: number, end: number, meter?: MatchMeter): number {
  if (piece.length === 0) return from;
  for (let i = from, k = 0; i < end; i++) {
    while (k > 0 && s[i] !== piece[k]) {
      k = table[k - 1];
      if (meter) meter.steps++;
    }
    if (meter) meter.steps++;
    if (s[i] === piece[k]) k++;
    if (k === piece.length) return i - k + 1;
  }
  return -1;
}

function sameAt(s: string, at: number, piece: string, meter?: MatchMeter): boolean {
  for (let i = 0; i < piece.length; i++) {
    if (meter) meter.steps++;
    if (s[at + i] !== piece[i]) return false;
  }
  return true;
}

/**
 * Whether `s` matches the wildcard `pattern`, without backtracking: the piece before the first star is a prefix, the
 * piece after the last a suffix, and the pieces between are found left to right, each at its first occurrence after
 * the previous one (the leftmost choice is never worse for `*`-only patterns). At most about 2 × |s| + |pattern|
 * comparisons, whatever the number of stars; a backtracking regular expression tries every placement of them.
 */
export function wildcardMatch(pattern: string, s: string, meter?: MatchMeter): boolean {
  const { pieces, tables } = compileWildcard(pattern);
  const first = pieces[0];
  if (pieces.length === 1) return first.length === s.length && sameAt(s, 0, first, meter);
  const last = pieces[pieces.length - 1];
  if (first.length + last.length > s.length) return false;
  if (!sameAt(s, 0, first, meter) || !sameAt(s, s.length - last.length, last, meter)) return false;
  const end = s.length - last.length;
  let pos = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const at = findPiece(s, pieces[i], tables[i], pos, end, meter);
    if (at < 0) return false;
    pos = at + pieces[i].length;
  }
  return true;
}

function ipv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** IPv4 CIDR blocks (`10.0.0.0/24`). */
export function parseCidr(cidr: string): { base: number; mask: number } | null {
  const [addr, bits, extra] = cidr.split("/");
  if (extra !== undefined || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return null;
  const base = ipv4(addr);
  if (base === null) return null;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return { base: (base & mask) >>> 0, mask };
}

function cidrMatch(s: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const ip = ipv4(s);
  return !!c && ip !== null && (ip & c.mask) >>> 0 === c.base;
}
