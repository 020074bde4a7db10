import { z } from "zod";
import { defineProvider, httpFailure, obj, providerAction, str } from "./types";

/**
 * A generic authenticated HTTP API: the connection holds the base URL and the credential (bearer token, basic
 * auth, an API-key header or query parameter); `request` calls a path under it.
 */

const Auth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("bearer"), token: z.string().min(1).max(4000) }),
  z.strictObject({ type: z.literal("basic"), username: z.string().min(1).max(500), password: z.string().min(1).max(4000) }),
  z.strictObject({
    type: z.literal("header"),
    name: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "must be a header name"),
    value: z.string().min(1).max(4000),
  }),
  z.strictObject({ type: z.literal("query"), name: z.string().min(1).max(100), value: z.string().min(1).max(4000) }),
]);

const HttpConfig = z.strictObject({
  base_url: z.string().url().max(2000).describe("Root of the API; request paths are appended to it"),
  auth: Auth.default({ type: "none" }),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(4000))
    .optional()
    .describe("Headers sent with every call (not secret)"),
  test_path: z
    .string()
    .startsWith("/")
    .max(2000)
    .optional()
    .describe("GET this path to test the connection (default: the base URL)"),
});
type HttpConfig = z.output<typeof HttpConfig>;

function credentials(c: HttpConfig): { headers: Record<string, string>; query: Record<string, string> } {
  const a = c.auth;
  if (a.type === "bearer") return { headers: { authorization: `Bearer ${a.token}` }, query: {} };
  if (a.type === "basic") return { headers: { authorization: `Basic ${btoa(`${a.username}:${a.password}`)}` }, query: {} };
  if (a.type === "header") return { headers: { [a.name.toLowerCase()]: a.value }, query: {} };
  if (a.type === "query") return { headers: {}, query: { [a.name]: a.value } };
  return { headers: {}, query: {} };
}

const messageOf = (body: unknown, status: number): string =>
  str(body, "message") ??
  str(body, "error") ??
  str(obj(obj(body).error), "message") ??
  (typeof body === "string" && body ? body.slice(0, 500) : `HTTP ${status}`);

const action = providerAction<HttpConfig>();

const request = action({
  title: "Call an HTTP API",
  effect: "write",
  description: "Sends one request to a path of the connection's API with its credentials.",
  idempotent: true,
  params: z.strictObject({
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    path: z.string().startsWith("/").max(2000).default("/"),
    query: z.record(z.string().max(200), z.string().max(4000)).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(4000)).optional(),
    body: z.unknown().optional(),
  }),
  result: z.object({ status: z.number(), headers: z.record(z.string(), z.string()), body: z.unknown() }),
  async run(ctx, p) {
    const cred = credentials(ctx.config);
    const res = await ctx.request({
      method: p.method,
      path: p.path,
      query: { ...p.query, ...cred.query },
      headers: { ...ctx.config.headers, ...p.headers, ...cred.headers },
      json: p.method === "GET" ? undefined : p.body,
      idempotent: true,
    });
    if (!res.ok) return httpFailure(res, messageOf(res.body, res.status), { now: ctx.now });
    return { success: true, status: res.status, data: { status: res.status, headers: res.headers, body: res.body } };
  },
});

export const httpProvider = defineProvider({
  platform: "http",
  title: "HTTP API",
  description: "Call any HTTP API with stored credentials.",
  category: "http",
  docs_url: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Authentication",
  config: HttpConfig,
  secretFields: ["auth.token", "auth.password", "auth.value"],
  apiRoot: (c) => c.base_url,
  actions: { request },
  async authCheck(ctx) {
    const cred = credentials(ctx.config);
    const res = await ctx.request({
      method: "GET",
      path: ctx.config.test_path ?? "/",
      query: cred.query,
      headers: { ...ctx.config.headers, ...cred.headers },
    });
    // Without a test_path any answer short of an auth refusal or a server error shows the API is reachable.
    const ok = ctx.config.test_path ? res.ok : res.status < 500 && res.status !== 401 && res.status !== 403;
    if (!ok) return httpFailure(res, messageOf(res.body, res.status), { now: ctx.now });
    return { success: true, status: res.status, data: { status: res.status } };
  },
});
