import { z } from "@hono/zod-openapi";
import { forbidden } from "../lib/errors";
import { hasScope } from "../lib/principal";
import { directResponse, explainIntent, explainTools, validateToolCall } from "../llm/explain";
import { generateWorkflow } from "../llm/generate";
import { ollamaDiagnostic, ollamaStatus } from "../llm/ollama";
import { listLlmProviders } from "../llm/providers";
import { ToolCallRequest, ToolListQuery, ToolListSchema } from "../schemas/integrations";
import {
  DirectResponseSchema,
  GenerateWorkflowInput,
  GeneratedWorkflowSchema,
  IntentSchema,
  MessageInput,
  OllamaDiagnosticSchema,
  OllamaStatusSchema,
  ProviderListSchema,
  RelevantToolsSchema,
  ToolValidationSchema,
} from "../schemas/llm";
import { callerOf, listTools } from "../services/tools";
import { asResponse, createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "./router";

/**
 * LLM operations of seed 002 (Arrotech Hub) other than conversations, mounted at /v1/llm: workflow generation,
 * providers, tools, intent and tool explanations, tool-call validation, Ollama status and diagnostics.
 */

const TAGS = ["arrotech"];
const llmErrors = {
  502: jsonResponse(z.object({ error: z.unknown() }), "The model provider failed or answered in an unexpected shape"),
  504: jsonResponse(z.object({ error: z.unknown() }), "The model did not answer in time"),
};
const OllamaQuery = z.object({
  connection_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "The ollama connection (default: the org's first)" }),
});

// It saves a flow: the scope of a flow write (and it calls a model: a trigger for the rate limits).
const generateRoute = triggerRoute("automations:write", {
  method: "post",
  path: "/workflows:generate",
  operationId: "generateWorkflow",
  tags: TAGS,
  summary:
    "Generate a flow from a description. The model's proposal is validated; an invalid one is sent back for repair " +
    "(at most LLM_MAX_REPAIR_ATTEMPTS times) and refused with 422 and its errors if it stays invalid. A valid flow is " +
    "saved disabled",
  request: jsonBody(GenerateWorkflowInput),
  responses: {
    201: jsonResponse(GeneratedWorkflowSchema, "The saved (disabled) flow"),
    ...errorResponses(409),
    422: jsonResponse(z.object({ error: z.unknown() }), "The proposal never became valid: the last validation errors"),
    ...llmErrors,
  },
});

const respondRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/respond",
  operationId: "llmDirectResponse",
  tags: TAGS,
  summary: "A direct answer from the model, without tools and without a conversation (Test Direct Response)",
  request: jsonBody(MessageInput),
  responses: { 200: jsonResponse(DirectResponseSchema, "The answer"), ...errorResponses(409), ...llmErrors },
});

const intentRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/explain-intent",
  operationId: "explainIntent",
  tags: TAGS,
  summary: "Classify a message: question, action (needs tools now) or workflow (automation), with the model's reasons",
  request: jsonBody(MessageInput),
  responses: { 200: jsonResponse(IntentSchema, "The intent"), ...errorResponses(409), ...llmErrors },
});

const toolsExplainRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/explain-tools",
  operationId: "explainRelevantTools",
  tags: TAGS,
  summary: "Which catalog tools a message needs, and why (tools the catalog does not have are dropped)",
  request: jsonBody(MessageInput),
  responses: { 200: jsonResponse(RelevantToolsSchema, "The relevant tools"), ...errorResponses(409), ...llmErrors },
});

const validateRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/tools:validate",
  operationId: "validateToolCall",
  tags: TAGS,
  summary: "Check a tool call's arguments against the tool's schema (and its connection) without running it",
  request: jsonBody(ToolCallRequest),
  responses: { 200: jsonResponse(ToolValidationSchema, "Whether the call is valid, and why not"), ...errorResponses(404) },
});

const providersRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/providers",
  operationId: "listLlmProviders",
  tags: TAGS,
  summary: "The LLM providers the organization can use (its openai, anthropic and ollama connections; Workers AI when bound)",
  responses: { 200: jsonResponse(ProviderListSchema, "Providers") },
});

const toolsRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/tools",
  operationId: "listLlmTools",
  tags: TAGS,
  summary: "The tool catalog the chat offers the model (all tools unless include_all=false)",
  request: { query: ToolListQuery },
  responses: { 200: jsonResponse(ToolListSchema, "Tools") },
});

const ollamaStatusRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/ollama/status",
  operationId: "ollamaStatus",
  tags: TAGS,
  summary: "Whether the configured Ollama endpoint answers, its models (/api/tags) and whether the configured model is there",
  request: { query: OllamaQuery },
  responses: { 200: jsonResponse(OllamaStatusSchema, "Status"), ...errorResponses(404) },
});

const ollamaDiagnosticRoute = triggerRoute("automations:read", {
  method: "get",
  path: "/ollama/diagnostic",
  operationId: "ollamaDiagnostic",
  tags: TAGS,
  summary: "Every check of the configured Ollama endpoint: connection, outbound policy, version, models, model, generation",
  description: "`generate=true` asks the model for an answer: that needs automations:trigger as well.",
  "x-scope-when": [{ query: "generate=true", scope: "automations:trigger" }],
  request: {
    query: OllamaQuery.extend({
      generate: z.enum(["true", "false"]).optional().openapi({ description: "Also ask the model for a one-word answer" }),
    }),
  },
  responses: { 200: jsonResponse(OllamaDiagnosticSchema, "Diagnostic"), ...errorResponses(404) },
});

export const llmRouter = createRouter()
  .openapi(generateRoute, async (c) => {
    const result = await generateWorkflow(c.env, c.get("principal"), c.req.valid("json"));
    return c.json(asResponse(GeneratedWorkflowSchema, result), 201);
  })
  .openapi(respondRoute, async (c) => c.json(await directResponse(c.env, c.get("principal").orgId, c.req.valid("json")), 200))
  .openapi(intentRoute, async (c) => c.json(await explainIntent(c.env, c.get("principal").orgId, c.req.valid("json")), 200))
  .openapi(toolsExplainRoute, async (c) => c.json(await explainTools(c.env, c.get("principal").orgId, c.req.valid("json")), 200))
  .openapi(validateRoute, async (c) =>
    c.json(await validateToolCall(c.env, callerOf(c.get("principal")), c.req.valid("json")), 200),
  )
  .openapi(providersRoute, async (c) => {
    const providers = await listLlmProviders(c.env, c.get("principal").orgId);
    return c.json({ default_provider: providers.find((p) => p.is_default)?.id ?? null, providers }, 200);
  })
  .openapi(toolsRoute, async (c) => {
    const q = c.req.valid("query");
    const tools = await listTools(c.env, c.get("principal").orgId, q.include_all !== "false" && q.all !== "false");
    return c.json({ total: tools.length, tools }, 200);
  })
  .openapi(ollamaStatusRoute, async (c) => {
    const status = await ollamaStatus(c.env, c.get("principal").orgId, c.req.valid("query").connection_id);
    return c.json(asResponse(OllamaStatusSchema, status), 200);
  })
  .openapi(ollamaDiagnosticRoute, async (c) => {
    const q = c.req.valid("query");
    // A model call is a trigger's effect, whatever route asks for it.
    if (q.generate === "true" && !hasScope(c.get("principal"), "automations:trigger")) {
      throw forbidden("Asking the model (generate=true) needs the scope automations:trigger");
    }
    const result = await ollamaDiagnostic(c.env, c.get("principal").orgId, {
      connectionId: q.connection_id,
      generate: q.generate === "true",
    });
    return c.json(asResponse(OllamaDiagnosticSchema, result), 200);
  });
