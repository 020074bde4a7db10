import { z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam, PagingQuery } from "../schemas/common";
import {
  ConversationDetailSchema,
  ConversationListSchema,
  ConversationSchema,
  CreateConversationInput,
  ExtractWorkflowInput,
  ExtractedWorkflowSchema,
  MessageInput,
  MessageListSchema,
  SendMessageResultSchema,
  ToolCallListSchema,
  UpdateConversationInput,
} from "../schemas/llm";
import {
  conversationDetail,
  conversationView,
  createConversation,
  deleteConversation,
  conversationToolCalls,
  extractWorkflow,
  listConversations,
  decideToolCall,
  listMessages,
  messageView,
  prepareTurn,
  renameConversation,
} from "../llm/conversations";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, triggerRoute } from "./router";

/**
 * Conversations with an LLM (seed 002, Arrotech Hub `chat`), mounted at /v1/conversations. Sending a message runs
 * the model with the tool catalog (automations:trigger, every tool call audited); `messages:stream` answers as SSE.
 */

const TAGS = ["arrotech"];
const Params = z.object({ conversation_id: IdParam("conversation_id") });
const page = (q: { size?: number; from?: number }) => ({ limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE, offset: q.from ?? 0 });

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listConversations",
  tags: TAGS,
  summary: "The organization's conversations, most recently updated first (metadata only)",
  request: { query: PagingQuery },
  responses: { 200: jsonResponse(ConversationListSchema, "Conversations") },
});

const createRoute = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "createConversation",
  tags: TAGS,
  summary: "Start a conversation; without a title, the first message names it",
  request: jsonBody(CreateConversationInput),
  responses: { 201: jsonResponse(ConversationSchema, "The conversation"), ...errorResponses(409) },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{conversation_id}",
  operationId: "getConversation",
  tags: TAGS,
  summary: "A conversation's metadata and its latest messages",
  request: { params: Params },
  responses: { 200: jsonResponse(ConversationDetailSchema, "The conversation"), ...errorResponses(404) },
});

const updateRoute = scopedRoute("automations:write", {
  method: "patch",
  path: "/{conversation_id}",
  operationId: "updateConversation",
  tags: TAGS,
  summary: "Rename a conversation",
  request: { params: Params, ...jsonBody(UpdateConversationInput) },
  responses: { 200: jsonResponse(ConversationSchema, "The conversation"), ...errorResponses(404) },
});

const deleteRoute = scopedRoute("automations:write", {
  method: "delete",
  path: "/{conversation_id}",
  operationId: "deleteConversation",
  tags: TAGS,
  summary: "Delete a conversation and all its messages",
  request: { params: Params },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
});

const messagesRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{conversation_id}/messages",
  operationId: "listConversationMessages",
  tags: TAGS,
  summary: "A conversation's messages in order: user, assistant and tool (the results of the tools the model called)",
  request: { params: Params, query: PagingQuery },
  responses: { 200: jsonResponse(MessageListSchema, "Messages"), ...errorResponses(404) },
});

const sendRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{conversation_id}/messages",
  operationId: "sendConversationMessage",
  tags: TAGS,
  summary:
    "Send a message: the model answers and may call catalog tools (at most LLM_MAX_TOOL_STEPS rounds). Returns the " +
    "final assistant message; a failed model call is stored as an `error` message and answered 502/504",
  request: { params: Params, ...jsonBody(MessageInput) },
  responses: {
    200: jsonResponse(SendMessageResultSchema, "The assistant's answer and every message of the turn"),
    ...errorResponses(404, 409),
    502: jsonResponse(z.object({ error: z.unknown() }), "The model provider failed"),
    504: jsonResponse(z.object({ error: z.unknown() }), "The model did not answer in time"),
  },
});

const streamRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{conversation_id}/messages:stream",
  operationId: "streamConversationMessage",
  tags: TAGS,
  summary:
    "Send a message and stream the turn as Server-Sent Events: start, text-delta, tool-call, tool-result, message " +
    "(each stored message), error, done",
  request: { params: Params, ...jsonBody(MessageInput) },
  responses: {
    200: { description: "An SSE stream", content: { "text/event-stream": { schema: z.string() } } },
    ...errorResponses(404, 409),
  },
});

const ToolCallParams = Params.extend({
  tool_call_id: z
    .string()
    .min(1)
    .max(200)
    .openapi({
      param: { name: "tool_call_id", in: "path" },
      description: "The id the model gave the call (pending_tool_calls[].id)",
    }),
});

const decideRoute = (decision: "approve" | "reject") =>
  triggerRoute("automations:trigger", {
    method: "post",
    path: `/{conversation_id}/tool-calls/{tool_call_id}/${decision}`,
    operationId: decision === "approve" ? "approveConversationToolCall" : "rejectConversationToolCall",
    tags: TAGS,
    summary:
      decision === "approve"
        ? "Run a tool call the model proposed (a write tool waiting in pending_tool_calls) and, once every pending call of " +
          "the message is decided, continue the turn"
        : "Refuse a tool call the model proposed: the model is told it was refused and, once every pending call of the " +
          "message is decided, answers",
    request: { params: ToolCallParams },
    responses: {
      200: jsonResponse(
        SendMessageResultSchema,
        "The last assistant message (maybe waiting for more decisions) and every message stored",
      ),
      ...errorResponses(404, 409),
      502: jsonResponse(z.object({ error: z.unknown() }), "The model provider failed"),
      504: jsonResponse(z.object({ error: z.unknown() }), "The model did not answer in time"),
    },
  });

const toolCallsRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{conversation_id}/tool-calls",
  operationId: "listConversationToolCalls",
  tags: TAGS,
  summary: "The tool calls of a conversation, for a workflow extraction preview",
  request: { params: Params },
  responses: { 200: jsonResponse(ToolCallListSchema, "Tool calls"), ...errorResponses(404) },
});

const extractRoute = scopedRoute("automations:write", {
  method: "post",
  path: "/{conversation_id}/extract-workflow",
  operationId: "extractWorkflowFromConversation",
  tags: TAGS,
  summary: "Turn the conversation's successful tool calls into a flow (one action per call), saved disabled",
  request: { params: Params, ...jsonBody(ExtractWorkflowInput) },
  responses: { 201: jsonResponse(ExtractedWorkflowSchema, "The saved flow"), ...errorResponses(404, 409) },
});

export const conversationsRouter = createRouter()
  .openapi(listRoute, async (c) => {
    const res = await listConversations(c.env, c.get("principal"), page(c.req.valid("query")));
    return c.json({ total: res.total, results: res.results.map(conversationView) }, 200);
  })
  .openapi(createRoute, async (c) => {
    const row = await createConversation(c.env, c.get("principal"), c.req.valid("json"));
    return c.json(conversationView(row), 201);
  })
  .openapi(getRoute, async (c) => {
    const detail = await conversationDetail(c.env, c.get("principal"), c.req.valid("param").conversation_id);
    return c.json(asResponse(ConversationDetailSchema, detail), 200);
  })
  .openapi(updateRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    const row = await renameConversation(c.env, c.get("principal"), conversation_id, c.req.valid("json").title);
    return c.json(conversationView(row), 200);
  })
  .openapi(deleteRoute, async (c) => {
    await deleteConversation(c.env, c.get("principal"), c.req.valid("param").conversation_id);
    return c.body(null, 204);
  })
  .openapi(messagesRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    const res = await listMessages(c.env, c.get("principal"), conversation_id, page(c.req.valid("query")));
    return c.json(asResponse(MessageListSchema, res), 200);
  })
  .openapi(sendRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    const turn = await prepareTurn(c.env, c.get("principal"), conversation_id, c.req.valid("json"), c.get("requestId"));
    const result = await turn.run();
    if (result.failure) throw result.failure;
    return c.json(asResponse(SendMessageResultSchema, { ...messageView(result.final), new_messages: result.views }), 200);
  })
  .openapi(streamRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    // Refusals (404, 409, unknown provider) are plain 4xx answers before the stream opens.
    const turn = await prepareTurn(c.env, c.get("principal"), conversation_id, c.req.valid("json"), c.get("requestId"));
    return streamSSE(c, async (stream) => {
      let id = 0;
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) });
      await send("start", { conversation_id, message: turn.userMessage });
      try {
        const result = await turn.run(send);
        if (result.failure) await send("error", { code: result.failure.code, message: result.failure.message });
        await send("done", { message: messageView(result.final) });
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError(500, "INTERNAL_ERROR", "Internal error");
        if (!(err instanceof AppError))
          console.error("conversation stream failed", err instanceof Error ? err.stack : String(err));
        await send("error", { code: e.code, message: e.message });
        await send("done", { message: null });
      }
    });
  })
  .openapi(decideRoute("approve"), async (c) => {
    const { conversation_id, tool_call_id } = c.req.valid("param");
    const p = c.get("principal");
    const result = await decideToolCall(c.env, p, conversation_id, tool_call_id, "approve", c.get("requestId"));
    if (result.failure) throw result.failure;
    return c.json(asResponse(SendMessageResultSchema, { ...messageView(result.final), new_messages: result.views }), 200);
  })
  .openapi(decideRoute("reject"), async (c) => {
    const { conversation_id, tool_call_id } = c.req.valid("param");
    const p = c.get("principal");
    const result = await decideToolCall(c.env, p, conversation_id, tool_call_id, "reject", c.get("requestId"));
    if (result.failure) throw result.failure;
    return c.json(asResponse(SendMessageResultSchema, { ...messageView(result.final), new_messages: result.views }), 200);
  })
  .openapi(toolCallsRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    const calls = await conversationToolCalls(c.env, c.get("principal"), conversation_id);
    return c.json(asResponse(ToolCallListSchema, calls), 200);
  })
  .openapi(extractRoute, async (c) => {
    const { conversation_id } = c.req.valid("param");
    const saved = await extractWorkflow(c.env, c.get("principal"), conversation_id, c.req.valid("json"));
    return c.json(asResponse(ExtractedWorkflowSchema, saved), 201);
  });
