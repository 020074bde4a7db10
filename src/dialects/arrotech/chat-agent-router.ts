import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "../../api/router";
import { LIMITS } from "../../lib/limits";
import { ErrorSchema } from "../../schemas/common";
import { createChatAgent } from "../../llm/chat-agent";
import { AGENTS_TAG, AgentSchema } from "./agents-schemas";
import { presentAgent } from "./agents-translate";
import { presentWorkflow } from "./workflows-present";
import { WorkflowSchema } from "./workflows-schemas";

/** Seed 002's "Create Chat Agent" at `POST /v1/workflows/chat-agent` (llm/chat-agent.ts). */

const ChatAgentRequest = z
  .strictObject({
    description: z.string().min(1).max(LIMITS.MAX_MESSAGE_LENGTH).openapi({
      description: "What the agent is for, in plain words: the model designs its instructions and picks its tools",
      example: "Answer customer questions in #support; look customers up in HubSpot before answering.",
    }),
    name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).nullable().optional().openapi({
      description: "The workflow's and the agent's name; when omitted the model names it",
    }),
    provider: z.string().min(1).max(200).nullable().optional().openapi({
      description: "The LLM that designs and runs the agent (a connection id, platform or model); default: the org's default",
    }),
  })
  .openapi("ArrotechChatAgentRequest");

const ChatAgentResponse = z
  .object({
    agent: AgentSchema,
    workflow: WorkflowSchema,
    ignored_tools: z.array(z.string()).openapi({ description: "Tools the model proposed that the catalog does not have" }),
    usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() }),
  })
  .openapi("ArrotechChatAgent");

const route = scopedRoute("automations:write", {
  method: "post",
  path: "/chat-agent",
  operationId: "arrotechCreateChatAgent",
  tags: [AGENTS_TAG],
  summary: "Create a chat agent: a description (and a name) → a workflow with an ai_agent step → an agent, in one call",
  description:
    "The model designs the agent (name, instructions, tools from GET /v1/tools); the workflow (manual trigger, one ai_agent " +
    "step answering `{{ trigger.event.text }}` or the `message` input) is saved enabled and the agent holds the design in " +
    'its agent_config. Run it with POST /v1/agents/{agent_id}/execute (`{"message": …}`), /events or its Slack request ' +
    "URL. Write tools wait for approval. 422 INVALID_PROPOSAL when the design stays invalid after the repairs.",
  request: jsonBody(ChatAgentRequest),
  responses: {
    201: jsonResponse(ChatAgentResponse, "The agent and its workflow"),
    ...errorResponses(400, 409, 429),
    422: jsonResponse(ErrorSchema, "The model's design never became valid: the last errors"),
  },
});

export const chatAgentRouter = createRouter().openapi(route, async (c) => {
  const input = c.req.valid("json");
  const res = await createChatAgent(c.env, c.get("principal"), input);
  return c.json(
    asResponse(ChatAgentResponse, {
      agent: presentAgent(res.agent),
      workflow: presentWorkflow(res.workflow),
      ignored_tools: res.ignored_tools,
      usage: res.usage,
    }),
    201,
  );
});
