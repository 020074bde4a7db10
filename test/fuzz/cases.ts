/**
 * Request cases for one operation, derived from its entry in the OpenAPI document: path ids (the fixture's,
 * unknown, odd or over-long), query and header values (valid, invalid or absent), and bodies (the fixture's,
 * a variant of it, generated from the schema, a mutation of one of those, or raw: malformed JSON, another
 * content type, empty, oversized). Each case says why it must be refused, by the document's own schemas.
 */
import fc from "fast-check";
import { LIMITS } from "../../src/lib/limits";
import { arbitraryFor, mutate, objectProperties, validate, type JsonSchema } from "../support/json-schema";
import { isNamespaceParam } from "../support/openapi-fixtures";
import { type OpenApiDocument, type Operation, type ParameterObject } from "../support/openapi";

/** Stands for "the fixture's current value" in a path; resolved when the case runs (a DELETE may have consumed it). */
export const FIXTURE = "\u0000fixture";

export type CredentialKind = "admin" | "api_key" | "jwt" | "none";

export type BodyCase =
  | { kind: "none" }
  | { kind: "json"; label: string; value: unknown }
  | { kind: "raw"; label: string; text: string; contentType?: string };

export interface FuzzCase {
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: BodyCase;
  credential: CredentialKind;
  /** Why the request must be refused with a 4xx; empty when it may succeed. */
  mustReject: string[];
  /** Short labels of how the case was made, for the statistics. */
  labels: string[];
}

interface Part<T> {
  value: T;
  label: string;
  reject?: string;
}

const PRINTABLE = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:~ !$&()*+,;=@".split(""));

// ----- path parameters

function pathParamArbitrary(op: Operation, p: ParameterObject, fixtureValue: string): fc.Arbitrary<Part<string>> {
  const schema: JsonSchema = p.schema ?? { type: "string" };
  const namespace = isNamespaceParam(op, p.name);
  const judge =
    (label: string) =>
    (value: string): Part<string> => {
      const errs = validate(schema, value, {});
      const reject = errs.length
        ? `path ${p.name}: ${errs[0]}`
        : !namespace && value !== fixtureValue
          ? `unknown ${p.name}`
          : undefined;
      return { value, label, reject };
    };
  const max = schema.maxLength ?? 200;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<Part<string>>({ value: FIXTURE, label: "fixture" }) },
    { weight: 2, arbitrary: fc.uuid().map(judge("unknown-id")) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).map(judge("odd-id")) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => judge("over-long-id")("y".repeat(max + n))) },
  );
}

// ----- query and header parameters

/** A query value the way zod's coercions read it: numbers by Number(), booleans by their name. */
function coerce(schema: JsonSchema, raw: string): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if ((type === "integer" || type === "number") && !schema.enum) return raw.trim() === "" ? Number.NaN : Number(raw);
  if (type === "boolean" && !schema.enum) return raw === "true" ? true : raw === "false" ? false : raw;
  return raw;
}

function serialize(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function badValuesFor(schema: JsonSchema): string[] {
  const out = ["not-a-number-or-enum", "-1", "1.5", "9999999999"];
  if (schema.maxLength !== undefined) out.push("q".repeat(schema.maxLength + 1));
  if (schema.maximum !== undefined) out.push(String(schema.maximum + 1));
  if (schema.minimum !== undefined) out.push(String(schema.minimum - 1));
  if (schema.format === "date-time") out.push("last tuesday");
  return out;
}

function queryParamArbitrary(p: ParameterObject, doc: OpenApiDocument): fc.Arbitrary<Part<string | null>> {
  const schema: JsonSchema = p.schema ?? { type: "string" };
  const judge =
    (label: string) =>
    (raw: string | null): Part<string | null> => {
      if (raw === null) return { value: null, label: "absent", reject: p.required ? `missing query ${p.name}` : undefined };
      const errs = validate(schema, coerce(schema, raw), doc);
      return { value: raw, label, reject: errs.length ? `query ${p.name}: ${errs[0]}` : undefined };
    };
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(null).map(judge("absent")) },
    { weight: 8, arbitrary: arbitraryFor(schema, doc).map((v) => judge("valid")(serialize(v))) },
    { weight: 1, arbitrary: fc.constantFrom(...badValuesFor(schema)).map(judge("invalid")) },
  );
}

function headerParamArbitrary(p: ParameterObject, doc: OpenApiDocument): fc.Arbitrary<Part<string | null>> {
  const schema: JsonSchema = p.schema ?? { type: "string" };
  const max = schema.maxLength ?? 200;
  const judge =
    (label: string) =>
    (raw: string | null): Part<string | null> => {
      if (raw === null) return { value: null, label: "absent", reject: p.required ? `missing header ${p.name}` : undefined };
      // fetch trims header values, so the server sees the trimmed one.
      const errs = validate(schema, raw.trim(), doc);
      return { value: raw, label, reject: errs.length ? `header ${p.name}: ${errs[0]}` : undefined };
    };
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(null).map(judge("absent")) },
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 40, unit: PRINTABLE }).map(judge("valid")) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => judge("over-long")("h".repeat(max + n))) },
  );
}

// ----- bodies

const MALFORMED_JSON = ['{"a":', "{'single': 'quotes'}", "[1, 2,,]", "NaN", '{"a": 1}}', "\u0000", '{"a": undefined}', "{\n"];

function jsonCase(label: string, value: unknown, schema: JsonSchema | undefined, doc: OpenApiDocument): Part<BodyCase> {
  const errs = schema ? validate(schema, value, doc) : [];
  return { value: { kind: "json", label, value }, label, reject: errs.length ? `body ${errs[0]}` : undefined };
}

function bodyArbitrary(op: Operation, fixtureBody: unknown, doc: OpenApiDocument): fc.Arbitrary<Part<BodyCase>> {
  const body = op.body!;
  const schema = body.schema;
  const isWebhook = op.path.startsWith("/v1/webhooks/");
  const limit = isWebhook ? LIMITS.MAX_WEBHOOK_BODY_BYTES : LIMITS.MAX_REQUEST_BODY_BYTES;
  const base = fixtureBody ?? {};
  const generated = schema ? arbitraryFor(schema, doc) : fc.jsonValue({ maxDepth: 2 });
  const options: fc.WeightedArbitrary<Part<BodyCase>>[] = [
    { weight: 3, arbitrary: fc.constant(jsonCase("fixture", base, schema, doc)) },
    { weight: 3, arbitrary: generated.map((v) => jsonCase("generated", v, schema, doc)) },
  ];
  const props =
    schema && base && typeof base === "object" && !Array.isArray(base) ? Object.entries(objectProperties(schema, doc)) : [];
  if (props.length > 0) {
    const variants = props.map(([k, s]) => arbitraryFor(s, doc).map((v) => ({ ...(base as Record<string, unknown>), [k]: v })));
    options.push({ weight: 3, arbitrary: fc.oneof(...variants).map((v) => jsonCase("variant", v, schema, doc)) });
  }
  if (schema) {
    const mutation = fc
      .tuple(fc.oneof(fc.constant(base), generated), fc.nat(), fc.nat())
      .map(([v, site, how]) => mutate(schema, v, doc, site, how))
      .map((m) => jsonCase(`mutation:${m.kind}`, m.value, schema, doc));
    options.push({ weight: 5, arbitrary: mutation });
  }
  const accepts = (type: string) => body.contentTypes.includes(type);
  options.push({
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(...MALFORMED_JSON).map((text): Part<BodyCase> => ({
        value: { kind: "raw", label: "malformed-json", text, contentType: "application/json" },
        label: "malformed-json",
        reject: "malformed JSON",
      })),
      fc.constant<Part<BodyCase>>({
        value: { kind: "raw", label: "text/plain", text: JSON.stringify(base), contentType: "text/plain" },
        label: "text/plain",
        reject: accepts("text/plain") ? undefined : "not JSON (415)",
      }),
      fc.constant<Part<BodyCase>>({
        value: { kind: "raw", label: "empty", text: "", contentType: "application/json" },
        label: "empty",
        reject: body.required ? "required body missing" : undefined,
      }),
      fc.constant<Part<BodyCase>>({
        value: {
          kind: "raw",
          label: "oversized",
          text: JSON.stringify({ padding: "z".repeat(limit + 16) }),
          contentType: "application/json",
        },
        label: "oversized",
        reject: "body too large (413)",
      }),
    ),
  });
  if (!body.required)
    options.push({ weight: 1, arbitrary: fc.constant<Part<BodyCase>>({ value: { kind: "none" }, label: "no-body" }) });
  return fc.oneof(...options);
}

/** The arbitrary of request cases for `op`; `fixture` holds the path values and body that are known to exist / be valid. */
export function caseArbitrary(
  op: Operation,
  doc: OpenApiDocument,
  fixture: { params: Record<string, string>; body: unknown },
): fc.Arbitrary<FuzzCase> {
  const pathArb = fc.record(
    Object.fromEntries(op.pathParams.map((p) => [p.name, pathParamArbitrary(op, p, fixture.params[p.name])])),
  );
  const queryArb = fc.record(Object.fromEntries(op.queryParams.map((p) => [p.name, queryParamArbitrary(p, doc)])));
  const headerArb = fc.record(Object.fromEntries(op.headerParams.map((p) => [p.name, headerParamArbitrary(p, doc)])));
  const bodyArb: fc.Arbitrary<Part<BodyCase>> = op.body
    ? bodyArbitrary(op, fixture.body, doc)
    : fc.constant({ value: { kind: "none" as const }, label: "no-body" });
  // Mostly the admin key (the cheapest to verify); API keys and JWTs often enough to cover their paths.
  const credArb: fc.Arbitrary<CredentialKind> = op.isPublic
    ? fc.constant("none")
    : op.superuserOnly
      ? fc.constant("admin")
      : fc.oneof(
          { weight: 6, arbitrary: fc.constant("admin" as const) },
          fc.constant("api_key" as const),
          fc.constant("jwt" as const),
        );
  return fc.record({ path: pathArb, query: queryArb, headers: headerArb, body: bodyArb, credential: credArb }).map((r) => {
    const parts = [...Object.values(r.path), ...Object.values(r.query), ...Object.values(r.headers), r.body] as Part<unknown>[];
    const defined = (o: Record<string, Part<string | null>>) =>
      Object.fromEntries(Object.entries(o).flatMap(([k, p]) => (p.value === null ? [] : [[k, p.value]]))) as Record<
        string,
        string
      >;
    return {
      params: Object.fromEntries(Object.entries(r.path).map(([k, p]) => [k, p.value])),
      query: defined(r.query),
      headers: defined(r.headers),
      body: r.body.value,
      credential: r.credential,
      mustReject: parts.flatMap((p) => (p.reject ? [p.reject] : [])),
      labels: [...Object.entries(r.path).map(([k, p]) => `${k}:${p.label}`), `body:${r.body.label}`],
    };
  });
}

/** A short description of a case for failure messages. */
export function describeCase(c: FuzzCase): string {
  const body =
    c.body.kind === "none"
      ? "no body"
      : c.body.kind === "json"
        ? `json ${JSON.stringify(c.body.value)}`
        : `raw(${c.body.contentType}) ${JSON.stringify(c.body.text)}`;
  return `params=${JSON.stringify(c.params)} query=${JSON.stringify(c.query)} headers=${JSON.stringify(c.headers)} credential=${c.credential} ${body.slice(0, 500)}`;
}
