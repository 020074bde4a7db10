/**
 * Dotted / indexed path lookup over plain JSON: `a.b[0].c`, `steps[0]['Contracts']`, `a["x.y"]`, `items.0.id`.
 * Only own properties are read, so `__proto__`, `constructor` and friends never resolve to JS internals.
 * A name segment applied to an array projects it over the array's items (`emails.address` → every address).
 */

export type PathSegment = string | number;

export class PathSyntaxError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`Invalid path "${path}": ${message}`);
    this.name = "PathSyntaxError";
  }
}

const MAX_PATH_LENGTH = 500;
const cache = new Map<string, PathSegment[]>();
const CACHE_SIZE = 500;

/** Parses a path into segments; numbers are array indexes. Throws PathSyntaxError. */
export function parsePath(path: string): PathSegment[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const segments = parseUncached(path);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(path, segments);
  return segments;
}

function parseUncached(path: string): PathSegment[] {
  if (path.length === 0) throw new PathSyntaxError(path, "empty path");
  if (path.length > MAX_PATH_LENGTH) throw new PathSyntaxError(path, `longer than ${MAX_PATH_LENGTH} characters`);
  const out: PathSegment[] = [];
  let i = 0;
  let expectName = true;
  while (i < path.length) {
    const ch = path[i];
    if (ch === "[") {
      const close = readBracket(path, i, out);
      i = close + 1;
      expectName = false;
    } else if (ch === ".") {
      if (expectName) throw new PathSyntaxError(path, `empty segment at position ${i}`);
      i++;
      expectName = true;
      if (i >= path.length) throw new PathSyntaxError(path, "ends with '.'");
    } else {
      if (!expectName) throw new PathSyntaxError(path, `expected '.' or '[' at position ${i}`);
      let j = i;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      const name = path.slice(i, j).trim();
      if (!name) throw new PathSyntaxError(path, `empty segment at position ${i}`);
      if (name.includes("]")) throw new PathSyntaxError(path, `unexpected ']' at position ${i + path.slice(i, j).indexOf("]")}`);
      out.push(name);
      i = j;
      expectName = false;
    }
  }
  return out;
}

/** Reads `[0]`, `['key']` or `["key"]` starting at `start`; returns the index of the closing bracket. */
function readBracket(path: string, start: number, out: PathSegment[]): number {
  const quote = path[start + 1];
  if (quote === "'" || quote === '"') {
    let j = start + 2;
    let key = "";
    while (j < path.length && path[j] !== quote) {
      if (path[j] === "\\" && j + 1 < path.length) j++;
      key += path[j];
      j++;
    }
    if (path[j] !== quote || path[j + 1] !== "]")
      throw new PathSyntaxError(path, `unterminated [${quote}...${quote}] at position ${start}`);
    out.push(key);
    return j + 1;
  }
  const close = path.indexOf("]", start);
  if (close < 0) throw new PathSyntaxError(path, `unterminated '[' at position ${start}`);
  const inner = path.slice(start + 1, close).trim();
  if (!/^\d+$/.test(inner))
    throw new PathSyntaxError(path, `index "${inner}" is not a non-negative integer (quote keys: ['key'])`);
  out.push(Number(inner));
  return close;
}

const hasOwn = (o: object, k: PropertyKey) => Object.prototype.hasOwnProperty.call(o, k);

export interface Lookup {
  found: boolean;
  value: unknown;
}

/** Looks a path up; `found` is false when any segment is missing. Array projection flattens one level per step. */
export function lookup(root: unknown, path: string | PathSegment[]): Lookup {
  const segments = typeof path === "string" ? parsePath(path) : path;
  return walk(root, segments, 0);
}

function walk(current: unknown, segments: PathSegment[], from: number): Lookup {
  let cur = current;
  for (let i = from; i < segments.length; i++) {
    const seg = segments[i];
    if (cur === null || typeof cur !== "object") return { found: false, value: undefined };
    if (Array.isArray(cur)) {
      const index = typeof seg === "number" ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
      if (index >= 0) {
        if (index >= cur.length) return { found: false, value: undefined };
        cur = cur[index];
        continue;
      }
      // Projection: `items.name` collects `name` of every item that has it.
      const values: unknown[] = [];
      for (const item of cur) {
        const r = walk(item, segments, i);
        if (!r.found) continue;
        if (Array.isArray(r.value)) values.push(...r.value);
        else values.push(r.value);
      }
      return values.length > 0 ? { found: true, value: values } : { found: false, value: undefined };
    }
    const key = String(seg);
    if (!hasOwn(cur, key)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** Value at `path`, or undefined. */
export const getPath = (root: unknown, path: string | PathSegment[]): unknown => lookup(root, path).value;
