import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { AutomationFlowSchema } from "./flow";

/**
 * Request and response shapes of the LLM chat and workflow generation (seed 002, Arrotech Hub: `chat` and
 * `workflows`), with the seed's field names (`content`, `provider`, `tools_called`, `tool_call_id`, `workflow_name`,
 * `selected_step_ids`, `parameterize_fields`, ...). Ids are UUIDs, as everywhere in the engine.
 */

const Provider = z
  .string()
  .min(1)
  .max(200)
  .nullable()
  .optional()
  .openapi({
    description:
      "LLM provider override: a connection id, a platform (`openai`, `anthropic`, `ollama`, `workers-ai`) or a configured " +
      "model; null or omitted uses the organization's default",
    example: "openai",
  });

export const MessageInput = z
  .object({
    content: z
      .string()
      .min(1)
      .max(LIMITS.MAX_MESSAGE_LENGTH)
      .openapi({ description: "The text of the message (markdown)", example: "Create a summary of my last 5 HubSpot deals." }),
    provider: Provider,
  })
  .openapi("MessageInput");

export const CreateConversationInput = z
  .object({
    title: z
      .string()
      .min(1)
      .max(LIMITS.MAX_NAME_LENGTH)
      .nullable()
      .optional()
      .openapi({ description: "Generated from the first message when omitted", example: "HubSpot Integration Project" }),
    auto_approve_tools: z
      .array(z.string().min(1).max(LIMITS.MAX_TOOL_NAME_LENGTH))
      .max(LIMITS.MAX_AUTO_APPROVE_TOOLS)
      .optional()
      .openapi({
        description:
          "Tools the model may run without asking. Otherwise a write tool the model calls waits in the assistant message's " +
          "pending_tool_calls until a person approves or rejects it; read tools always run",
        example: ["slack_post_message"],
      }),
  })
  .openapi("CreateConversationInput");

export const UpdateConversationInput = z
  .object({ title: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).openapi({ example: "Marketing Automation Campaign v2" }) })
  .openapi("UpdateConversationInput");

export const ConversationSchema = z
  .object({
    id: z.string(),
    title: z.string().nullable(),
    created_by: z.string(),
    provider: z.string().nullable().openapi({ description: "The provider of the last answer" }),
    message_count: z.number().int(),
    auto_approve_tools: z.array(z.string()).openapi({ description: "Tools the model runs without asking" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Conversation");

export const MessageSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    seq: z.number().int().openapi({ description: "Order within the conversation, from 1" }),
    role: z.enum(["user", "assistant", "tool", "system"]),
    content: z.string().openapi({ description: "The text; a tool message holds its result as JSON" }),
    status: z.enum(["completed", "error", "refused", "incomplete", "awaiting_approval"]).openapi({
      description:
        "`error`: the model call or the tool failed (`error_message`); `refused`: the model declined (content filter), or a " +
        "person refused the tool call; `incomplete`: the turn stopped at LLM_MAX_TOOL_STEPS rounds of tool calls; " +
        "`awaiting_approval`: write tool calls wait in `pending_tool_calls`",
    }),
    provider: z.string().nullable(),
    model: z.string().nullable(),
    tokens_used: z.number().int().nullable(),
    tools_called: z
      .array(z.object({ id: z.string(), name: z.string(), arguments: z.unknown() }))
      .nullable()
      .openapi({ description: "The tool calls an assistant message asked for" }),
    tool_call_id: z.string().nullable(),
    tool_name: z.string().nullable(),
    tool_arguments: z.unknown().openapi({ description: "A tool message: the arguments it ran with (raw text when malformed)" }),
    tool_success: z.boolean().nullable(),
    error_message: z.string().nullable(),
    pending_tool_calls: z
      .array(z.object({ id: z.string(), name: z.string(), arguments: z.unknown() }))
      .nullable()
      .openapi({
        description:
          "An assistant message: the write tool calls the model proposed that wait for a person " +
          "(POST …/tool-calls/{id}/approve or …/reject); null when none",
      }),
    created_at: z.string(),
  })
  .openapi("ConversationMessage");

export const ConversationDetailSchema = ConversationSchema.extend({
  messages: z.array(MessageSchema).openapi({ description: `The latest ${LIMITS.MAX_PAGE_SIZE} messages, oldest first` }),
}).openapi("ConversationDetail");

export const ConversationListSchema = z
  .object({ total: z.number().int(), results: z.array(ConversationSchema) })
  .openapi("ConversationList");

export const MessageListSchema = z.object({ total: z.number().int(), results: z.array(MessageSchema) }).openapi("MessageList");

export const SendMessageResultSchema = MessageSchema.extend({
  new_messages: z.array(MessageSchema).openapi({ description: "Every message this turn stored: user, tool and assistant" }),
}).openapi("SendMessageResult");

export const ToolCallViewSchema = z
  .object({
    id: z.string().openapi({ description: "The step id (the tool message's id): a `selected_step_ids` entry" }),
    tool_call_id: z.string().nullable().openapi({ description: "The id the model gave the call" }),
    name: z.string(),
    arguments: z.unknown(),
    success: z.boolean(),
    error_message: z.string().nullable(),
    extractable: z.boolean().openapi({ description: "Whether extract-workflow can turn it into an action" }),
    created_at: z.string(),
  })
  .openapi("ConversationToolCall");

export const ToolCallListSchema = z
  .object({ conversation_id: z.string(), total: z.number().int(), tool_calls: z.array(ToolCallViewSchema) })
  .openapi("ConversationToolCallList");

export const ExtractWorkflowInput = z
  .object({
    workflow_name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH),
    description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).optional(),
    selected_step_ids: z.array(z.string().min(1).max(200)).max(LIMITS.MAX_ACTIONS_PER_FLOW).optional().openapi({
      description: "Step ids (from GET …/tool-calls) to keep, in conversation order (default: every successful call)",
    }),
    parameterize_fields: z
      .array(
        z
          .string()
          .min(1)
          .max(200)
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an argument name"),
      )
      .max(LIMITS.MAX_FLOW_VARIABLES)
      .optional()
      .openapi({ description: "Argument names replaced by `{{ variables.<name> }}`; their values are returned as `variables`" }),
    trigger_type: z.string().min(1).max(100).default("manual").optional(),
    trigger_config: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("ExtractWorkflowInput");

export const GenerateWorkflowInput = z
  .object({
    description: z
      .string()
      .min(1)
      .max(LIMITS.MAX_DESCRIPTION_LENGTH)
      .openapi({ example: "Every Monday at 9 AM, post a summary of new contacts to Slack #sales-updates." }),
    name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).nullable().optional().openapi({ example: "Weekly Revenue Sync" }),
    provider: Provider,
  })
  .openapi("GenerateWorkflowInput");

export const SavedWorkflowSchema = z
  .object({
    workflow_id: z.string().openapi({ description: "The flow's id (also the Arrotech workflow id)" }),
    status: z.literal("disabled").openapi({ description: "Saved disabled: review it, then enable it" }),
    flow: AutomationFlowSchema,
  })
  .openapi("SavedWorkflow");

export const GeneratedWorkflowSchema = SavedWorkflowSchema.extend({
  attempts: z.number().int().openapi({ description: "Model answers needed (1 + repairs)" }),
  provider: z.string(),
  model: z.string(),
}).openapi("GeneratedWorkflow");

export const ExtractedWorkflowSchema = SavedWorkflowSchema.extend({
  steps: z.array(z.object({ step_id: z.string(), tool: z.string(), action_id: z.string() })),
  variables: z
    .record(z.string(), z.unknown())
    .openapi({ description: "Parameterized fields and the values the conversation used" }),
  skipped: z.array(z.object({ step_id: z.string(), reason: z.string() })),
}).openapi("ExtractedWorkflow");

export const ProviderListSchema = z
  .object({
    default_provider: z.string().nullable().openapi({ description: "The id of the provider used when a request names none" }),
    providers: z.array(
      z.object({
        id: z.string().openapi({ description: "The connection id, or `workers-ai`" }),
        provider: z.enum(["openai", "anthropic", "ollama", "workers-ai"]),
        name: z.string(),
        model: z.string(),
        base_url: z.string().nullable(),
        status: z.string().openapi({ description: "The connection's status (active, error, expired)" }),
        is_default: z.boolean(),
        source: z.enum(["connection", "binding"]),
      }),
    ),
  })
  .openapi("LlmProviderList");

const modelMeta = { provider: z.string(), model: z.string() };

export const DirectResponseSchema = z
  .object({ content: z.string(), finish_reason: z.string(), tokens_used: z.number().int().nullable(), ...modelMeta })
  .openapi("LlmDirectResponse");

export const IntentSchema = z
  .object({
    content: z.string(),
    intent: z.enum(["question", "action", "workflow", "other"]),
    requires_tools: z.boolean(),
    confidence: z.number().nullable(),
    explanation: z.string(),
    suggested_tools: z.array(z.string()).openapi({ description: "Catalog tools the model suggested (unknown names dropped)" }),
    ...modelMeta,
  })
  .openapi("LlmIntent");

export const RelevantToolsSchema = z
  .object({
    content: z.string(),
    explanation: z.string(),
    tools: z.array(
      z.object({
        name: z.string(),
        title: z.string(),
        reason: z.string(),
        available: z.boolean(),
        platform: z.string().nullable(),
      }),
    ),
    ignored: z.array(z.string()).openapi({ description: "Names the model gave that are not in the catalog" }),
    ...modelMeta,
  })
  .openapi("LlmRelevantTools");

export const ToolValidationSchema = z
  .object({
    name: z.string(),
    valid: z.boolean(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() })),
  })
  .openapi("LlmToolValidation");

const OllamaBase = {
  configured: z.boolean(),
  connection_id: z.string().nullable(),
  base_url: z.string().nullable(),
  model: z.string().nullable(),
  reachable: z.boolean().openapi({ description: "`/api/tags` answered" }),
  models: z.array(z.string()),
  model_available: z.boolean(),
  latency_ms: z.number().nullable(),
  error: z.string().nullable(),
};

export const OllamaStatusSchema = z.object(OllamaBase).openapi("OllamaStatus");
export const OllamaDiagnosticSchema = z
  .object({
    ...OllamaBase,
    healthy: z.boolean(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
  })
  .openapi("OllamaDiagnostic");
