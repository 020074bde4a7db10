/**
 * The OpenAPI document as test input: its operations, credentials for every kind of caller and a request sender
 * (the fixture registry is in openapi-fixtures.ts). The isolation matrix and the fuzzer are generated from these
 * at run time, so an operation added to the API is covered without editing them.
 */
import { SELF, env } from "cloudflare:test";
import { SignJWT } from "jose";
import { SCOPES, type Scope } from "../../src/lib/principal";
import { ADMIN_KEY, BASE } from "../helpers";
import { deref, type JsonSchema, type SchemaRoot } from "./json-schema";

export interface ParameterObject {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: JsonSchema;
}

interface OperationObject {
  operationId?: string;
  security?: Record<string, string[]>[];
  "x-required-scope"?: string;
  "x-superuser-only"?: boolean;
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

export interface OpenApiDocument extends SchemaRoot {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
}

export interface Operation {
  /** operationId, else `METHOD path`. */
  id: string;
  method: string;
  /** The document's path, with `{param}`. */
  path: string;
  /** The scope from `x-required-scope`; null for public operations (`security: []`). */
  scope: Scope | null;
  isPublic: boolean;
  /** `x-superuser-only`: only the operator's own key may call it (an org's admin scope is not enough). */
  superuserOnly: boolean;
  /** Set when the operation declares neither a known scope nor `security: []`. */
  declarationProblem?: string;
  pathParams: ParameterObject[];
  queryParams: ParameterObject[];
  headerParams: ParameterObject[];
  body?: { required: boolean; schema?: JsonSchema; contentTypes: string[] };
  /** Response schema (application/json) by status code; `undefined` when the status has no JSON body. */
  responses: Record<string, JsonSchema | undefined>;
}

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

export async function loadDocument(): Promise<OpenApiDocument> {
  const res = await SELF.fetch(`${BASE}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const params = op.parameters ?? [];
      const declared = op["x-required-scope"];
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      const scope = declared && (SCOPES as readonly string[]).includes(declared) ? (declared as Scope) : null;
      const declarationProblem =
        isPublic && declared
          ? "is public (security: []) yet declares x-required-scope"
          : !isPublic && !scope
            ? `declares no known x-required-scope (${declared ?? "none"}) and is not public (security: [])`
            : undefined;
      const content = op.requestBody?.content ?? {};
      const responses: Record<string, JsonSchema | undefined> = {};
      for (const [status, r] of Object.entries(op.responses ?? {})) responses[status] = r.content?.["application/json"]?.schema;
      out.push({
        id: op.operationId ?? `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        scope,
        isPublic,
        superuserOnly: op["x-superuser-only"] === true,
        declarationProblem,
        pathParams: params.filter((p) => p.in === "path"),
        queryParams: params.filter((p) => p.in === "query"),
        headerParams: params.filter((p) => p.in === "header"),
        body: op.requestBody
          ? {
              required: op.requestBody.required === true,
              schema: content["application/json"]?.schema,
              contentTypes: Object.keys(content),
            }
          : undefined,
        responses,
      });
    }
  }
  return out;
}

/** `/a/{b}` → `/a/:b`, the form Hono lists in `app.routes`. */
export const toHonoPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ":$1");

// ---------------------------------------------------------------------------------------------------------
// Credentials

export interface Credential {
  label: string;
  headers: Record<string, string>;
}

export const NO_CREDENTIAL: Credential = { label: "none", headers: {} };

/** The admin key acting in `org` (a superuser: every scope). */
export const adminCredential = (org: string): Credential => ({
  label: `admin key in ${org}`,
  headers: { "x-key": ADMIN_KEY, "x-org-id": org },
});

/** An API key of `org` holding exactly `scopes` (created through the API with the admin key). */
export async function apiKeyCredential(org: string, scopes: Scope[]): Promise<Credential> {
  const res = await SELF.fetch(`${BASE}/v1/api-keys`, {
    method: "POST",
    headers: { ...adminCredential(org).headers, "content-type": "application/json" },
    body: JSON.stringify({ name: `matrix ${scopes.join(" ") || "no scope"}`, scopes }),
  });
  const body = (await res.json()) as { key?: string };
  if (res.status !== 201 || !body.key)
    throw new Error(`could not create an API key with [${scopes}]: ${res.status} ${JSON.stringify(body)}`);
  return { label: `API key [${scopes.join(" ")}] of ${org}`, headers: { authorization: `Bearer ${body.key}` } };
}

/** A JWT (HS256 with the test JWT_SECRET) for a user of `org` with `scopes` in the `scope` claim. */
// A user of its own per credential by default: every JWT of one user shares its per-user rate limit (RL_API_KEY,
// 600 calls a minute), which a fast run of the whole matrix would otherwise exhaust.
export async function jwtCredential(
  org: string,
  scopes: Scope[],
  sub = `matrix-user-${crypto.randomUUID()}`,
): Promise<Credential> {
  const token = await new SignJWT({ org_id: org, scope: scopes.join(" "), email: `${sub}@example.com` })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(env.JWT_SECRET));
  return { label: `JWT [${scopes.join(" ")}] of ${org}`, headers: { authorization: `Bearer ${token}` } };
}

/** Scope sets that do NOT grant `scope`: every subset of the other non-admin scopes (the empty one included). */
export function scopeSetsLacking(scope: Scope): Scope[][] {
  const others = SCOPES.filter((s) => s !== scope && s !== "admin");
  const sets: Scope[][] = [];
  for (let mask = 0; mask < 1 << others.length; mask++) sets.push(others.filter((_, i) => mask & (1 << i)));
  return sets;
}

// ---------------------------------------------------------------------------------------------------------
// Sending

export interface OutgoingRequest {
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A JSON body (serialized here, with Content-Type application/json). */
  json?: unknown;
  /** A body sent as is. */
  raw?: { text: string; contentType?: string };
  credential: Credential;
}

export interface Answer {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
  contentType: string;
  url: string;
}

/** Fills `{param}`s; values are percent-encoded, dots too, so `.`/`..` stay path segments rather than moves. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(v).replace(/\./g, "%2E");
  });
}

export async function send(op: Operation, req: OutgoingRequest): Promise<Answer> {
  const qs = new URLSearchParams(req.query ?? {}).toString();
  const url = `${BASE}${fillPath(op.path, req.params ?? {})}${qs ? `?${qs}` : ""}`;
  const headers: Record<string, string> = { ...req.credential.headers, ...req.headers };
  let body: string | undefined;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers["content-type"] ??= "application/json";
  } else if (req.raw) {
    body = req.raw.text;
    if (req.raw.contentType !== undefined) headers["content-type"] = req.raw.contentType;
  }
  const res = await SELF.fetch(url, { method: op.method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, contentType: res.headers.get("content-type") ?? "", url };
}

/** The response schema for `status` (or `default`), resolved; `null` when the status is not documented. */
export function documentedResponse(op: Operation, status: number, doc: OpenApiDocument): { schema?: JsonSchema } | null {
  const key = String(status) in op.responses ? String(status) : "default" in op.responses ? "default" : null;
  if (key === null) return null;
  const schema = op.responses[key];
  return { schema: schema ? deref(schema, doc) : undefined };
}
