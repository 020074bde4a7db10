import { Validator, type Schema } from "@cfworker/json-schema";
import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { action } from "./common";

/**
 * The AI steps (docs/ai.md): `ai_generate` (one answer, text or an object matching `output_schema`) and `ai_agent`
 * (a tool loop, each model call and tool call its own durable step, write tools waiting for approval). Strings may
 * be templates; what a step leaves unset comes from its agent's `agent_config`, then from the connection.
 */

const JSON_SCHEMA_DOC =
  "A JSON Schema (2020-12) the answer must match: the model is asked for one JSON object, an invalid answer is sent " +
  `back for repair at most ${LIMITS.LLM_MAX_REPAIR_ATTEMPTS} times, then the action fails with INVALID_OUTPUT`;

/** What a flow write refuses in an output_schema: too large, not an object schema, or unusable (an unresolved $ref). */
function outputSchemaProblem(schema: Record<string, unknown>): string | null {
  if (JSON.stringify(schema).length > LIMITS.AI_MAX_OUTPUT_SCHEMA_BYTES)
    return `An output_schema may be at most ${LIMITS.AI_MAX_OUTPUT_SCHEMA_BYTES} bytes`;
  if (schema.type !== undefined && schema.type !== "object") return 'The answer is one JSON object: "type" must be "object"';
  try {
    new Validator(schema as Schema, "2020-12", false).validate({});
    return null;
  } catch (err) {
    return `Not a usable JSON Schema: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
  }
}

export const OutputSchema = z
  .record(z.string(), z.unknown())
  .superRefine((s, ctx) => {
    const problem = outputSchemaProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ description: JSON_SCHEMA_DOC });

/** Settings every AI step has. */
const modelFields = {
  connection_id: z.string().min(1).max(200).optional().openapi({
    description:
      "An openai, anthropic or ollama connection, or `workers-ai`; default: the agent's `connection_id`, else the organization's default LLM provider",
  }),
  model: z.string().min(1).max(200).optional().openapi({ description: "Default: the agent's `model`, else the connection's" }),
  max_output_tokens: z.number().int().min(1).max(LIMITS.AI_MAX_OUTPUT_TOKENS).optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_total_tokens: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.AI_MAX_TOTAL_TOKENS)
    .optional()
    .openapi({ description: "Tokens (input + output) this action may spend over all its model calls; over it: BUDGET_EXCEEDED" }),
  output_schema: OutputSchema.optional(),
  stream: z.boolean().optional().openapi({ description: "Receive each answer as a stream (read whole before the step ends)" }),
};

export const AiGenerateConfig = z.strictObject({
  ...modelFields,
  system: z.string().max(100_000).optional(),
  prompt: z.string().min(1).max(200_000),
});

export const AI_APPROVAL_MODES = ["auto", "write_tools"] as const;

export const AiAgentConfig = z.strictObject({
  ...modelFields,
  instructions: z
    .string()
    .max(100_000)
    .optional()
    .openapi({ description: "The system prompt; default: the agent's `instructions`" }),
  input: z.string().min(1).max(200_000).openapi({ description: "The task, as the user message (a template)" }),
  tools: z
    .array(z.string().min(1).max(LIMITS.MAX_TOOL_NAME_LENGTH))
    .max(LIMITS.AI_AGENT_MAX_TOOLS)
    .optional()
    .openapi({ description: "Tool names as GET /v1/tools lists them; default: the agent's `tools`, else none" }),
  max_steps: z.number().int().min(1).max(LIMITS.AI_AGENT_MAX_STEPS).optional(),
  approval: z.enum(AI_APPROVAL_MODES).default("write_tools").openapi({
    description: "`write_tools`: a tool that writes waits for a person's decision; `auto`: every tool runs",
  }),
});

export const AI_ACTIONS = [
  action("ai_generate", AiGenerateConfig),
  action("ai_agent", AiAgentConfig).refine((a) => a.loop_id === undefined, {
    message: "An ai_agent step cannot loop (its steps are its own); give the agent the list in its input",
    path: ["loop_id"],
  }),
] as const;
