import type { ModelMessage } from "ai";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AutomationFlow } from "../schemas/flow";
import { createAgent } from "../services/agents";
import { createFlow } from "../services/flows";
import { NO_USAGE, addUsage, type TokenUsage } from "../services/llm-usage";
import { listTools } from "../services/tools";
import type { AgentRow } from "../store/agents";
import { chatAgentDesignInstructions } from "./prompts";
import { callStepModel, stepModel } from "./step-model";
import { checkStructured, repairPrompt, schemaInstruction } from "./structured";

/**
 * "Create Chat Agent" (seed 002): from a description (and an optional name) the model designs the agent (a name,
 * its instructions, the catalog tools it needs), then a workflow with one `ai_agent` step is saved and an agent made
 * of it, in one call. The step leaves instructions, tools and the connection unset, so they come from the agent's
 * agent_config (docs/ai.md): editing the agent changes what the workflow does. Each run answers the message of its
 * event (`{{ trigger.event.text }}`) or of a manual run (`message` input); write tools wait for approval.
 */

export interface ChatAgentInput {
  description: string;
  name?: string | null;
  /** A connection id, platform or model (as /v1/llm takes it); default: the organization's default provider. */
  provider?: string | null;
}

export interface ChatAgentResult {
  agent: AgentRow;
  workflow: AutomationFlow;
  /** Tool names the model proposed that the catalog does not have (left out). */
  ignored_tools: string[];
  usage: TokenUsage;
  attempts: number;
}

const DESIGN_SCHEMA = {
  type: "object",
  required: ["name", "instructions", "tools"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    instructions: { type: "string", minLength: 1, maxLength: 20_000 },
    tools: { type: "array", items: { type: "string" }, maxItems: LIMITS.AI_AGENT_MAX_TOOLS },
  },
};

interface Design {
  name: string;
  instructions: string;
  tools: string[];
}

/** The message a run answers: a Slack or API event's text, else the manual run's `message`. */
const INPUT = "{{ trigger.event.text | default: variables.message | default: variables.input | default: '(no message)' }}";

export async function createChatAgent(env: Env, p: Principal, input: ChatAgentInput): Promise<ChatAgentResult> {
  const resolved = await stepModel(env, p.orgId, { connection_id: input.provider ?? undefined });
  if (!resolved.ok)
    throw new AppError(resolved.failure.code === "BAD_CONFIG" ? 400 : 409, "UNKNOWN_PROVIDER", resolved.failure.reason);
  const target = resolved.model;
  const catalog = (await listTools(env, p.orgId, false)).filter((t) => t.available);
  const instructions = `${chatAgentDesignInstructions(catalog)}\n\n${schemaInstruction(DESIGN_SCHEMA)}`;
  const messages: ModelMessage[] = [{ role: "user", content: input.description }];
  let usage = NO_USAGE;
  let design: Design | null = null;
  let attempts = 0;
  let errors: string[] = [];
  while (!design && attempts <= LIMITS.LLM_MAX_REPAIR_ATTEMPTS) {
    attempts++;
    const res = await callStepModel({
      env,
      orgId: p.orgId,
      target,
      instructions,
      messages,
      settings: {},
      remainingTokens: null,
      idempotencyKey: `chat-agent:${p.orgId}:${attempts}`,
    });
    if (!res.ok) throw new AppError(res.failure.code === "BUDGET_EXCEEDED" ? 429 : 502, res.failure.code, res.failure.reason);
    usage = addUsage(usage, res.out.usage);
    const check = checkStructured(res.out.text, DESIGN_SCHEMA);
    // checkStructured validated the value against DESIGN_SCHEMA, the JSON Schema of Design.
    if (check.ok) design = check.value as unknown as Design;
    else {
      errors = check.errors;
      messages.push(
        { role: "assistant", content: res.out.text || "(empty answer)" },
        { role: "user", content: repairPrompt(errors) },
      );
    }
  }
  if (!design)
    throw new AppError(
      422,
      "INVALID_PROPOSAL",
      "The model's agent design was still invalid after the repairs; nothing was saved",
      [...errors.map((message) => ({ path: "", location: "proposal", message }))],
    );
  const known = new Set(catalog.map((t) => t.name));
  const tools = [...new Set(design.tools)].filter((t) => known.has(t));
  const name = (input.name || design.name).slice(0, LIMITS.MAX_NAME_LENGTH);
  const workflow = await createFlow(env, p, {
    flow_name: name,
    description: input.description.slice(0, 2000),
    enabled: true,
    triggers: [{ type: "manual" }],
    actions: [{ id: "agent", name: "Chat agent", type: "ai_agent", config: { input: INPUT, approval: "write_tools" } }],
  });
  const agent = await createAgent(env, p, {
    workflow_id: workflow.id,
    name,
    agent_config: {
      instructions: design.instructions,
      tools,
      ...(target.provider.connectionId ? { connection_id: target.provider.connectionId } : { connection_id: target.provider.id }),
      model: target.name,
    },
  });
  return { agent, workflow, ignored_tools: design.tools.filter((t) => !known.has(t)), usage, attempts };
}
