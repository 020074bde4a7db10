import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import { AutomationFlowInputSchema, type AutomationFlow } from "../schemas/flow";
import { createFlow } from "../services/flows";
import { listTools, type ToolDescriptor } from "../services/tools";
import { type MessageRow, listToolMessages } from "../store/conversations";

/**
 * A conversation's tool calls as a reusable flow (seed 002 "Extract Workflow From Conversation"): each selected,
 * successful call becomes one action with the arguments it ran with, behind a manual (or the given) trigger. The flow
 * is saved disabled, through the same write path and validation as any flow.
 */

/** Most tool messages looked at (a conversation holds at most MAX_MESSAGES_PER_CONVERSATION messages). */
const MAX_STEPS_READ = LIMITS.MAX_MESSAGES_PER_CONVERSATION;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The action a call of `tool` with `args` becomes, or why it cannot become one. */
function actionOf(tool: ToolDescriptor | undefined, args: unknown): { action: Record<string, unknown> } | { reason: string } {
  if (!tool) return { reason: "the tool is not in the catalog" };
  if (!isObject(args)) return { reason: "the call had no valid arguments" };
  if (tool.kind === "provider") {
    const { connection_id, ...params } = args;
    return {
      action: {
        name: tool.title,
        type: "integration",
        config: {
          platform: tool.platform,
          action: tool.action,
          ...(typeof connection_id === "string" ? { connection_id } : {}),
          params,
        },
      },
    };
  }
  if (tool.name === "send_notification") return { action: { name: tool.title, type: "send_notification", config: args } };
  if (tool.name === "create_record") {
    return { action: { name: tool.title, type: "create_record", config: { module: args.schema, data: args.data } } };
  }
  return { reason: `the ${tool.kind} tool ${tool.name} has no action type` };
}

export async function listConversationToolCalls(env: Env, orgId: string, conversationId: string) {
  const rows = await listToolMessages(env.DB, orgId, conversationId, MAX_STEPS_READ);
  const catalog = new Map((await listTools(env, orgId, true)).map((t) => [t.name, t]));
  const tool_calls = rows.map((r) => ({
    id: r.id,
    tool_call_id: r.tool_call_id,
    name: r.tool_name ?? "",
    arguments: r.tool_arguments,
    success: r.tool_success === true,
    error_message: r.error_message,
    extractable: r.tool_success === true && "action" in actionOf(catalog.get(r.tool_name ?? ""), r.tool_arguments),
    created_at: r.created_at,
  }));
  return { conversation_id: conversationId, total: tool_calls.length, tool_calls };
}

export interface ExtractInput {
  workflow_name: string;
  description?: string;
  selected_step_ids?: string[];
  parameterize_fields?: string[];
  trigger_type?: string;
  trigger_config?: Record<string, unknown>;
}

function selectSteps(rows: MessageRow[], selected: string[] | undefined): MessageRow[] {
  if (!selected) return rows;
  const known = new Set(rows.map((r) => r.id));
  const unknown = selected.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "selected_step_ids names steps that are not tool calls of this conversation",
      unknown.map((id) => ({
        path: `selected_step_ids.${selected.indexOf(id)}`,
        location: "json",
        message: `No tool call "${id.slice(0, 100)}"`,
      })),
    );
  }
  const wanted = new Set(selected);
  return rows.filter((r) => wanted.has(r.id));
}

/** Replaces the parameterized arguments by `{{ variables.<name> }}`, collecting the values the conversation used. */
function parameterize(action: Record<string, unknown>, fields: Set<string>, variables: Record<string, unknown>) {
  const config = action.config as Record<string, unknown>;
  const target = (action.type === "integration" ? config.params : config) as Record<string, unknown>;
  for (const key of Object.keys(target)) {
    if (!fields.has(key)) continue;
    if (!(key in variables)) variables[key] = target[key];
    target[key] = `{{ variables.${key} }}`;
  }
}

export async function extractWorkflow(env: Env, p: Principal, conversationId: string, input: ExtractInput) {
  const rows = selectSteps(await listToolMessages(env.DB, p.orgId, conversationId, MAX_STEPS_READ), input.selected_step_ids);
  const catalog = new Map((await listTools(env, p.orgId, true)).map((t) => [t.name, t]));
  const fields = new Set(input.parameterize_fields ?? []);
  const variables: Record<string, unknown> = {};
  const actions: Record<string, unknown>[] = [];
  const used: { step_id: string; tool: string }[] = [];
  const skipped: { step_id: string; reason: string }[] = [];
  for (const row of rows) {
    if (row.tool_success !== true) {
      skipped.push({ step_id: row.id, reason: "the call failed" });
      continue;
    }
    const made = actionOf(catalog.get(row.tool_name ?? ""), structuredClone(row.tool_arguments));
    if ("reason" in made) {
      skipped.push({ step_id: row.id, reason: made.reason });
      continue;
    }
    parameterize(made.action, fields, variables);
    actions.push(made.action);
    used.push({ step_id: row.id, tool: row.tool_name ?? "" });
  }
  if (actions.length === 0) {
    throw new AppError(409, "NOTHING_TO_EXTRACT", "The conversation has no successful tool call to turn into an action");
  }
  if (actions.length > LIMITS.MAX_ACTIONS_PER_FLOW) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      `A flow may have at most ${LIMITS.MAX_ACTIONS_PER_FLOW} actions; select fewer steps`,
    );
  }
  const trigger = {
    type: input.trigger_type ?? "manual",
    ...(input.trigger_config ? { configuration: input.trigger_config } : {}),
  };
  const parsed = AutomationFlowInputSchema.safeParse({
    flow_name: input.workflow_name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    enabled: false,
    triggers: [trigger],
    actions,
  });
  if (!parsed.success) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "The extracted flow is invalid",
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), location: "json", message: i.message })),
    );
  }
  const flow: AutomationFlow = await createFlow(env, p, parsed.data);
  return {
    workflow_id: flow.id,
    status: "disabled" as const,
    flow,
    steps: used.map((u, i) => ({ ...u, action_id: flow.actions[i]?.id ?? "" })),
    variables,
    skipped,
  };
}
