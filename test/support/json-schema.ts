/**
 * The subset of JSON Schema (OpenAPI 3.0 dialect: `nullable`, boolean `exclusiveMinimum`) that our generated
 * document uses: a validator for response bodies and an oracle for requests, fast-check arbitraries of valid
 * values, and mutations that make a valid value invalid. Driven by the document, so new schemas need nothing here.
 */
import fc from "fast-check";

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  writeOnly?: boolean;
  readOnly?: boolean;
  default?: unknown;
  example?: unknown;
  description?: string;
}

/** What `$ref`s resolve against: the OpenAPI document. */
export interface SchemaRoot {
  components?: { schemas?: Record<string, JsonSchema> };
}

type Path = (string | number)[];

export function deref(schema: JsonSchema, root: SchemaRoot): JsonSchema {
  let s = schema;
  for (let i = 0; s.$ref && i < 20; i++) {
    const name = s.$ref.replace("#/components/schemas/", "");
    const target = root.components?.schemas?.[name];
    if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
    s = target;
  }
  return s;
}

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" && Number.isInteger(v) ? "integer" : typeof v;

const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeMatches(type: string, v: unknown): boolean {
  const t = typeOf(v);
  if (type === "number") return t === "number" || t === "integer";
  return t === type;
}

export interface ValidateOptions {
  /** Response bodies must not carry writeOnly properties (secrets). */
  response?: boolean;
}

/** Every way `value` breaks `schema`, as `$.path: message` strings (empty when it conforms). */
export function validate(schema: JsonSchema, value: unknown, root: SchemaRoot, opts: ValidateOptions = {}, path = "$"): string[] {
  const s = deref(schema, root);
  if (value === null && s.nullable) return [];
  const errs: string[] = [];
  const err = (m: string) => errs.push(`${path}: ${m}`);

  for (const sub of s.allOf ?? []) errs.push(...validate(sub, value, root, opts, path));
  if (s.anyOf) {
    const results = s.anyOf.map((sub) => validate(sub, value, root, opts, path));
    if (!results.some((r) => r.length === 0)) err(`matches none of anyOf (${results.map((r) => r[0]).join(" | ")})`);
  }
  if (s.oneOf) {
    const results = s.oneOf.map((sub) => validate(sub, value, root, opts, path));
    const ok = results.filter((r) => r.length === 0).length;
    if (ok !== 1) err(ok === 0 ? `matches none of oneOf (${results.map((r) => r[0]).join(" | ")})` : `matches ${ok} of oneOf`);
  }
  if (s.enum && !s.enum.some((e) => deepEqual(e, value))) err(`${JSON.stringify(value)?.slice(0, 80)} is not one of the enum`);
  if ("const" in s && !deepEqual(s.const, value)) err(`must be ${JSON.stringify(s.const)}`);

  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length > 0 && !types.some((t) => typeMatches(t, value))) {
    err(`expected ${types.join("|")}${s.nullable ? "|null" : ""}, got ${typeOf(value)}`);
    return errs;
  }

  if (typeof value === "string") {
    if (s.minLength !== undefined && value.length < s.minLength) err(`shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) err(`longer than ${s.maxLength}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) err(`does not match ${s.pattern}`);
    if (s.format === "date-time" && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) err("not a date-time");
  }
  if (typeof value === "number") {
    const exMin =
      s.exclusiveMinimum === true ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : undefined;
    const exMax =
      s.exclusiveMaximum === true ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : undefined;
    if (exMin !== undefined ? value <= exMin : s.minimum !== undefined && value < s.minimum) err(`below the minimum`);
    if (exMax !== undefined ? value >= exMax : s.maximum !== undefined && value > s.maximum) err(`above the maximum`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) err(`fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) err(`more than ${s.maxItems} items`);
    if (s.items) value.forEach((v, i) => errs.push(...validate(s.items!, v, root, opts, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object" && (s.properties || s.required || s.additionalProperties !== undefined)) {
    const obj = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) err(`missing required property ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      const prop = s.properties?.[k];
      if (prop) {
        if (opts.response && deref(prop, root).writeOnly) err(`writeOnly property ${k} is returned`);
        errs.push(...validate(prop, v, root, opts, `${path}.${k}`));
      } else if (s.additionalProperties === false) err(`unexpected property ${k}`);
      else if (typeof s.additionalProperties === "object")
        errs.push(...validate(s.additionalProperties, v, root, opts, `${path}.${k}`));
    }
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries of valid values

/** Strings that tend to break things: templates, SQL/LIKE wildcards, path tricks, control and wide characters. */
const NASTY = [
  "{{ record.name }}",
  "{% raw %}",
  "' OR 1=1 --",
  "%_\\",
  "../../etc",
  "\u0000",
  "\u202e",
  "😀",
  "null",
  "__proto__",
  "constructor",
  "<script>",
  " ",
];

const MAX_DEPTH = 4;
const SMALL_JSON = fc.jsonValue({ maxDepth: 2 });

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? min + 24, min + 24);
  if (s.format === "date-time")
    return fc
      .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString());
  if (s.pattern) {
    try {
      const re = new RegExp(s.pattern);
      return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= (s.maxLength ?? Infinity) && re.test(v));
    } catch {
      /* a pattern fast-check cannot generate from: fall back to plain strings checked against it */
    }
  }
  const fits = (v: string) => v.length >= min && v.length <= (s.maxLength ?? Infinity);
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength: min, maxLength: max }) },
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: max, unit: "grapheme" }).filter(fits) },
    { weight: 1, arbitrary: fc.constantFrom(...NASTY).filter(fits) },
  );
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const exMin = s.exclusiveMinimum === true || typeof s.exclusiveMinimum === "number";
  const exMax = s.exclusiveMaximum === true || typeof s.exclusiveMaximum === "number";
  const lo = typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : (s.minimum ?? -1_000_000);
  const hi = typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : (s.maximum ?? 1_000_000);
  if (integer) return fc.integer({ min: Math.ceil(exMin ? lo + 1 : lo), max: Math.floor(exMax ? hi - 1 : hi) });
  return fc
    .double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true, minExcluded: exMin, maxExcluded: exMax })
    .map((n) => (Object.is(n, -0) ? 0 : n));
}

/** Merges `allOf` parts into one schema (properties and required lists are unioned). */
function mergeAllOf(s: JsonSchema, root: SchemaRoot): JsonSchema {
  const { allOf, ...rest } = s;
  let out: JsonSchema = { ...rest };
  for (const part of allOf ?? []) {
    const p = deref(part, root);
    const merged = p.allOf ? mergeAllOf(p, root) : p;
    out = {
      ...merged,
      ...out,
      properties: { ...merged.properties, ...out.properties },
      required: [...(merged.required ?? []), ...(out.required ?? [])],
    };
  }
  if (out.properties && Object.keys(out.properties).length === 0) delete out.properties;
  return out;
}

/** A fast-check arbitrary of values valid for `schema` (refinements the document cannot express aside). */
export function arbitraryFor(schema: JsonSchema, root: SchemaRoot, depth = 0): fc.Arbitrary<unknown> {
  let s = deref(schema, root);
  if (s.allOf) s = mergeAllOf(s, root);
  const base = baseArbitrary(s, root, depth);
  return s.nullable ? fc.oneof({ weight: 8, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) }) : base;
}

function baseArbitrary(s: JsonSchema, root: SchemaRoot, depth: number): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  if ("const" in s) return fc.constant(s.const);
  const variants = s.oneOf ?? s.anyOf;
  if (variants) return fc.oneof(...variants.map((v) => arbitraryFor(v, root, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "string":
      return stringArbitrary(s);
    case "integer":
      return numberArbitrary(s, true);
    case "number":
      return numberArbitrary(s, false);
    case "boolean":
      return fc.boolean();
    case "array": {
      const min = s.minItems ?? 0;
      const max = depth >= MAX_DEPTH ? min : Math.min(s.maxItems ?? min + 3, min + 3);
      return fc.array(s.items ? arbitraryFor(s.items, root, depth + 1) : SMALL_JSON, { minLength: min, maxLength: max });
    }
    case "object":
    case undefined:
      if (!s.properties && type === undefined) return SMALL_JSON;
      return objectArbitrary(s, root, depth);
    default:
      return SMALL_JSON;
  }
}

function objectArbitrary(s: JsonSchema, root: SchemaRoot, depth: number): fc.Arbitrary<unknown> {
  const required = new Set(s.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    // Deep optional properties are left out, so recursive schemas (nested conditions) stay finite.
    if (!required.has(k) && depth >= MAX_DEPTH) continue;
    if (deref(v, root).readOnly) continue;
    model[k] = arbitraryFor(v, root, depth + 1);
  }
  const known = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  const extra = s.additionalProperties;
  if (!extra || depth >= MAX_DEPTH) return known;
  const valueArb = extra === true ? SMALL_JSON : arbitraryFor(extra, root, depth + 1);
  const keyArb = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in (s.properties ?? {})));
  return fc
    .tuple(known, fc.dictionary(keyArb, valueArb, { maxKeys: 3 }))
    .map(([a, b]) => ({ ...(b as Record<string, unknown>), ...(a as Record<string, unknown>) }));
}

/** The properties of an object schema (after `$ref` and `allOf`), or none when it is not a plain object schema. */
export function objectProperties(schema: JsonSchema, root: SchemaRoot): Record<string, JsonSchema> {
  let s = deref(schema, root);
  if (s.allOf) s = mergeAllOf(s, root);
  return s.oneOf || s.anyOf ? {} : (s.properties ?? {});
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of a valid value

/** A place in a value and the (resolved) schema that governs it. */
interface Site {
  path: Path;
  schema: JsonSchema;
}

/** The schema that governs `value` among alternatives: the first variant it validates against. */
function governing(s: JsonSchema, value: unknown, root: SchemaRoot): JsonSchema {
  let r = deref(s, root);
  if (r.allOf) r = mergeAllOf(r, root);
  const variants = r.oneOf ?? r.anyOf;
  if (variants) {
    const hit = variants.find((v) => validate(v, value, root).length === 0);
    return hit ? governing(hit, value, root) : r;
  }
  return r;
}

function sites(schema: JsonSchema, value: unknown, root: SchemaRoot, path: Path = [], out: Site[] = []): Site[] {
  const s = governing(schema, value, root);
  out.push({ path, schema: s });
  if (Array.isArray(value) && s.items) value.forEach((v, i) => sites(s.items!, v, root, [...path, i], out));
  else if (typeOf(value) === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      if (sub) sites(sub, v, root, [...path, k], out);
    }
  }
  return out;
}

const WRONG_TYPES: unknown[] = [12345, "not-the-right-type", true, null, [1, "two"], { unexpected: "object" }, 1.5, -1];

/** Values that break `s` at one site (each is checked by the caller; some may turn out valid). */
function breakers(s: JsonSchema, current: unknown): { kind: string; value: unknown }[] {
  const out: { kind: string; value: unknown }[] = WRONG_TYPES.map((v) => ({ kind: "wrong-type", value: v }));
  if (s.maxLength !== undefined) out.push({ kind: "oversized-string", value: "x".repeat(s.maxLength + 1 + (s.maxLength % 7)) });
  if (s.minLength) out.push({ kind: "undersized-string", value: "" });
  if (s.pattern) out.push({ kind: "pattern", value: "bad value / with spaces\u0000" });
  if (s.format === "date-time") out.push({ kind: "format", value: "yesterday at noon" });
  if (s.enum) out.push({ kind: "enum", value: "not-in-enum" });
  if (s.maximum !== undefined) out.push({ kind: "above-maximum", value: s.maximum + 1 });
  if (s.minimum !== undefined) out.push({ kind: "below-minimum", value: s.minimum - 1 });
  if (s.maxItems !== undefined)
    out.push({ kind: "too-many-items", value: Array.from({ length: s.maxItems + 1 }, () => current) });
  if (typeOf(current) === "object") {
    const obj = current as Record<string, unknown>;
    for (const r of s.required ?? []) {
      const { [r]: _gone, ...rest } = obj;
      out.push({ kind: "missing-required", value: rest });
    }
    out.push({ kind: "extra-field", value: { ...obj, __unexpected_field: "surprise" } });
  }
  return out;
}

function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? setAt(v, rest, replacement) : v));
  const obj = value as Record<string, unknown>;
  return { ...obj, [head]: setAt(obj[head as string], rest, replacement) };
}

export interface Mutation {
  kind: string;
  path: string;
  value: unknown;
}

/**
 * One mutation of `value`, chosen by two numbers (so fast-check shrinks it): a site in the value and a way of
 * breaking it. The result is usually invalid; the caller asks `validate` to know for sure.
 */
export function mutate(schema: JsonSchema, value: unknown, root: SchemaRoot, siteIndex: number, breakIndex: number): Mutation {
  const all = sites(schema, value, root);
  const site = all[siteIndex % all.length];
  const options = breakers(site.schema, getAt(value, site.path));
  const choice = options[breakIndex % options.length];
  return {
    kind: choice.kind,
    path: `$${site.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`,
    value: setAt(value, site.path, choice.value),
  };
}

function getAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) v = (v as Record<string | number, unknown>)?.[p];
  return v;
}

/** The smallest value the schema accepts that we can build without search (required properties only). */
export function minimalValue(schema: JsonSchema, root: SchemaRoot, depth = 0): unknown {
  let s = deref(schema, root);
  if (s.allOf) s = mergeAllOf(s, root);
  if (s.default !== undefined) return s.default;
  if (s.example !== undefined) return s.example;
  if (s.enum) return s.enum[0];
  const variants = s.oneOf ?? s.anyOf;
  if (variants) return minimalValue(variants[0], root, depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === "string") return s.format === "date-time" ? new Date(0).toISOString() : "x".repeat(Math.max(1, s.minLength ?? 1));
  if (type === "integer" || type === "number") return s.minimum ?? 1;
  if (type === "boolean") return false;
  if (type === "array")
    return Array.from({ length: s.minItems ?? 0 }, () => (s.items ? minimalValue(s.items, root, depth + 1) : null));
  if (type === "object" || s.properties) {
    const out: Record<string, unknown> = {};
    for (const r of s.required ?? []) if (s.properties?.[r] && depth < 8) out[r] = minimalValue(s.properties[r], root, depth + 1);
    return out;
  }
  return {};
}
