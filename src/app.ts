import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { AppError, errorBody } from "./lib/errors";
import { LIMITS } from "./lib/limits";
import { redactPath } from "./lib/redact";
import { apiKeysRouter } from "./api/api-keys";
import { expressionsRouter } from "./api/expressions";
import { bulkJobsRouter } from "./api/bulk-jobs";
import { executionsRouter } from "./api/executions";
import { rerunsRouter } from "./api/reruns";
import { bulkRerunsRouter } from "./api/bulk-reruns";
import { flowPlansRouter } from "./api/flow-plans";
import { runsRouter } from "./api/runs";
import { manualRunsRouter } from "./api/manual-runs";
import { submissionsRouter } from "./api/submissions";
import { eventsIntakeRouter } from "./api/events-intake";
import { flowsRouter } from "./api/flows";
import { flowQueueRouter } from "./api/flow-queue";
import { recordsRouter } from "./api/records";
import { webhooksRouter } from "./api/webhooks";
import { connectionsRouter } from "./api/connections";
import { executeRouter } from "./api/execute";
import { notificationsRouter } from "./api/notifications";
import { toolsRouter } from "./api/tools";
import { conversationsRouter } from "./api/conversations";
import { llmRouter } from "./api/llm";
import { llmUsageRouter } from "./api/llm-usage";
import { mcpRouter } from "./api/mcp";
import { authenticate } from "./api/auth";
import { organizationsRouter } from "./api/organizations";
import { adminSecretsRouter } from "./api/admin-secrets";
import { entityFilesRouter, filesRouter } from "./api/files";
import { webhookTargetsRouter } from "./api/webhook-targets";
import { emailTemplatesRouter } from "./api/email-templates";
import { inboxesRouter } from "./api/inboxes";
import { documentTemplatesRouter } from "./api/document-templates";
import { partnersRouter, sharedEntitiesRouter } from "./api/partners";
import { mappingConfigsRouter } from "./api/mapping-configs";
import { apiRateLimit } from "./api/rate-limit";
import { planQuota, plansRouter } from "./api/plans";
import type { AppEnv } from "./api/context";
import { createRouter } from "./api/router";
import { acceptsNonJsonBody, countsAsTrigger, isPublicRoute, routeLookup } from "./api/route-meta";
import { PLURA_EXECUTE_PATH, pluraEnvelope, pluraRouter } from "./dialects/plura/router";
import { TP_BASE, trustpagerRouter } from "./dialects/trustpager/router";
import { COHERENCE_BASE, coherenceRouter } from "./dialects/coherence/router";
import { WORKFLOWS_BASE, workflowsRouter } from "./dialects/arrotech/workflows-router";
import { TEMPLATES_BASE, templatesRouter } from "./dialects/arrotech/templates-router";
import { AGENTS_BASE, AGENT_TEMPLATES_BASE, agentTemplatesRouter, agentsRouter } from "./dialects/arrotech/agents-router";
import { agentEventsRouter } from "./dialects/arrotech/agent-events-router";
import { chatAgentRouter } from "./dialects/arrotech/chat-agent-router";

/** Roots of the authenticated API: the engine's own, the dialects' (src/dialects/) and the MCP server (src/mcp/). */
const API_ROOTS = ["/v1/*", "/api/*", "/mcp/*"] as const; // "/*" also matches the path itself

/** An `x-request-id` the engine keeps: at most 128 characters of letters, digits and `._:-`. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

function hasBody(headers: Headers): boolean {
  const len = headers.get("content-length");
  return (len !== null && len !== "0") || headers.has("transfer-encoding");
}

function renderError(c: Context<AppEnv>, err: unknown): Response {
  if (err instanceof AppError) return c.json(errorBody(err.code, err.message, err.details), err.status);
  if (err instanceof HTTPException) {
    const status = err.status;
    const code =
      status === 400
        ? "MALFORMED_REQUEST"
        : status === 401
          ? "UNAUTHORIZED"
          : status === 413
            ? "PAYLOAD_TOO_LARGE"
            : "HTTP_ERROR";
    return c.json(errorBody(code, err.message || "Request rejected"), status);
  }
  // The path may end in a webhook URL token: logged redacted.
  console.error("unhandled error", c.req.method, redactPath(c.req.path), err instanceof Error ? err.stack : String(err));
  return c.json(errorBody("INTERNAL_ERROR", "Internal error"), 500);
}

/** Builds the Worker's HTTP app: middleware, every router, the OpenAPI document and the docs page. */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();
  // Whether a route is public, and which bodies it takes, come from its definition (security: [], body content).
  const routeOf = routeLookup(app);

  app.use("*", async (c, next) => {
    // A client's id is echoed only when it is a plain one; it names the request in logs and audits, nothing more.
    const given = c.req.header("x-request-id");
    c.set("requestId", given !== undefined && REQUEST_ID.test(given) ? given : crypto.randomUUID());
    await next();
    c.header("x-request-id", c.get("requestId"));
  });

  // Plura answers its envelope even for refusals: this wraps whatever the pipeline below renders.
  app.use(`${PLURA_EXECUTE_PATH}/*`, pluraEnvelope); // "/*" also matches the path itself; middleware, not a route

  // The engine's API (/v1) and the dialects' own bases (/api: Plura, TrustPager) share one pipeline.
  for (const root of API_ROOTS) {
    app.use(root, async (c, next) => {
      const method = c.req.method;
      if (BODY_METHODS.has(method) && hasBody(c.req.raw.headers) && !acceptsNonJsonBody(routeOf(c))) {
        const type = c.req.header("content-type") ?? "";
        if (!JSON_TYPE.test(type)) {
          return c.json(
            errorBody("UNSUPPORTED_MEDIA_TYPE", "The request body must be JSON (Content-Type: application/json)"),
            415,
          );
        }
      }
      await next();
    });

    app.use(
      root,
      bodyLimit({
        maxSize: LIMITS.MAX_REQUEST_BODY_BYTES,
        onError: (c) =>
          c.json(errorBody("PAYLOAD_TOO_LARGE", `The request body exceeds ${LIMITS.MAX_REQUEST_BODY_BYTES} bytes`), 413),
      }),
    );

    app.use(root, async (c, next) => (isPublicRoute(routeOf(c)) ? next() : authenticate(c, next)));
    app.use(root, async (c, next) => {
      const route = routeOf(c);
      return isPublicRoute(route) ? next() : apiRateLimit(c, next, countsAsTrigger(route));
    });
    app.use(root, async (c, next) => (isPublicRoute(routeOf(c)) ? next() : planQuota(c, next)));
  }

  // Each router at its own prefix; its routes are relative to it. Order matters where paths overlap:
  // bulk jobs before executions (/executions/bulk-jobs is not an execution id).
  const mounts: [string, OpenAPIHono<AppEnv>][] = [
    ["/v1/api-keys", apiKeysRouter],
    ["/v1/automation", expressionsRouter],
    ["/v1/automation", flowsRouter],
    ["/v1/automation", flowQueueRouter],
    ["/v1/automation", flowPlansRouter],
    ["/v1/entities", recordsRouter],
    ["/v1/automation/executions/bulk-jobs", bulkJobsRouter],
    ["/v1/automation/executions/bulk-reruns", bulkRerunsRouter],
    ["/v1/automation", executionsRouter],
    ["/v1/automation", rerunsRouter],
    ["/v1/automation", runsRouter],
    ["/v1/connections", connectionsRouter],
    ["/v1/notifications", notificationsRouter],
    ["/v1/automation/execute", executeRouter],
    ["/v1/tools", toolsRouter],
    ["/v1/conversations", conversationsRouter],
    ["/v1/llm", llmRouter],
    ["/v1/usage", llmUsageRouter],
    ["/mcp", mcpRouter],
    ["/v1/webhooks", webhooksRouter],
    ["/v1/automation/flows", manualRunsRouter],
    ["/v1/automation/submissions", submissionsRouter],
    ["/v1/automation/events", eventsIntakeRouter],
    ["/v1/organizations", organizationsRouter],
    ["/v1/organizations", plansRouter],
    ["/v1/admin", adminSecretsRouter],
    // epilot's platform in miniature (docs/platform.md)
    ["/v1/files", filesRouter],
    ["/v1/entities", entityFilesRouter],
    ["/v1/webhook-targets", webhookTargetsRouter],
    ["/v1/email-templates", emailTemplatesRouter],
    ["/v1/inboxes", inboxesRouter],
    ["/v1/document-templates", documentTemplatesRouter],
    ["/v1/partners", partnersRouter],
    ["/v1/shared-entities", sharedEntitiesRouter],
    ["/v1/mapping-configs", mappingConfigsRouter],
    [PLURA_EXECUTE_PATH, pluraRouter],
    [TP_BASE, trustpagerRouter],
    [COHERENCE_BASE, coherenceRouter],
    [WORKFLOWS_BASE, chatAgentRouter],
    [WORKFLOWS_BASE, workflowsRouter],
    [TEMPLATES_BASE, templatesRouter],
    [AGENTS_BASE, agentsRouter],
    [AGENTS_BASE, agentEventsRouter],
    [AGENT_TEMPLATES_BASE, agentTemplatesRouter],
  ];
  for (const [prefix, router] of mounts) app.route(prefix, router);

  app.openAPIRegistry.registerComponent("securitySchemes", "BearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key (`ak_…`), a JWT, or the admin key",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "XKey", { type: "apiKey", in: "header", name: "x-key" });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "Automation Engine API",
      version: "1.0.0",
      description: "Self-hosted automation engine for Cloudflare. Compatible with the epilot Automation API.",
    },
  });
  // /docs (Swagger UI) and /console are static assets (wrangler.toml [assets], scripts/build-assets.mjs).
  app.get("/", (c) => c.json({ name: "automation-engine", docs: "/docs", console: "/console", openapi: "/openapi.json" }));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      c.header("Allow", allowed.join(", "));
      return c.json(errorBody("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use ${allowed.join(", ")}`), 405);
    }
    return c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404);
  });
  app.onError((err, c) => renderError(c, err));
  return app;
}

const patternCache = new WeakMap<object, { method: string; re: RegExp }[]>();

/** Methods that some route serves at `path`: turns a wrong method into 405 instead of 404. */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  let patterns = patternCache.get(app);
  if (!patterns) {
    patterns = app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({
        method: r.method,
        re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+")}$`),
      }));
    patternCache.set(app, patterns);
  }
  return [...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method))];
}
