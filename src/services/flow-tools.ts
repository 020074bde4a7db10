import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AutomationFlow } from "../schemas/flow";
import type { FlowVariables } from "../schemas/flow-variables";
import { getExecutionRow } from "../store/executions";
import { searchFlows } from "../store/flows";
import { startExecution, startedBy } from "./executions";
import { checkArguments, variablesJsonSchema, type ArgumentIssue, type JsonSchemaObject } from "./flow-input";

/**
 * Flows as tools, for every caller of the tool catalog (GET /v1/tools, POST /v1/tools/call, ai_agent, chat) and
 * the MCP server: every enabled flow of the caller's organization with a `manual` trigger, named
 * `flow_<slug of its name>_<first 8 hex digits of its id>` (the whole id when two flows share the 8 digits), its
 * input schema from the manual trigger's declared `variables`. Calling one starts an execution through the
 * normal start path (admission included) and answers at once with the execution id; the run is a resource
 * (`execution://{id}` over MCP, GET /v1/automation/executions/{id} over the API). Started by a flow's step (an
 * ai_agent), the run is that execution's child: one level deeper in the chain, its id derived from the step's key.
 */

export const FLOW_TOOL_PREFIX = "flow_";
const SLUG_MAX = 40;
const SHORT_ID = 8;

export interface FlowTool {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchemaObject;
  flow: AutomationFlow;
  variables: FlowVariables;
}

function slug(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, SLUG_MAX)
    .replace(/_+$/, "");
  return s || "flow";
}

const hexOf = (id: string) => id.replace(/[^A-Za-z0-9]/g, "").toLowerCase();

/** The variables of the flow's first manual trigger (none declared: a tool without arguments). */
function manualVariables(flow: AutomationFlow): FlowVariables | null {
  const t = flow.triggers.find((tr) => tr.type === "manual");
  if (!t || t.type !== "manual") return null;
  return t.configuration?.variables ?? {};
}

export function runToolDescription(flow: AutomationFlow): string {
  const what = flow.description?.trim() || `Runs the flow "${flow.flow_name}".`;
  return `${what} Starts an execution and answers at once with its id; read execution://{execution_id} for the result.`;
}

/** Tool names of `flows`, in order: stable for a flow (until it is renamed) and unique among them. */
export function flowToolNames(flows: { id: string; flow_name: string }[]): string[] {
  const shortCount = new Map<string, number>();
  for (const f of flows) {
    const short = hexOf(f.id).slice(0, SHORT_ID);
    shortCount.set(short, (shortCount.get(short) ?? 0) + 1);
  }
  return flows.map((f) => {
    const hex = hexOf(f.id);
    const short = hex.slice(0, SHORT_ID);
    return `${FLOW_TOOL_PREFIX}${slug(f.flow_name)}_${shortCount.get(short)! > 1 ? hex : short}`;
  });
}

/** The org's flow tools, newest flow first (at most LIMITS.MAX_MCP_FLOW_TOOLS). */
export async function listFlowTools(env: Env, orgId: string): Promise<FlowTool[]> {
  const { results } = await searchFlows(
    env.DB,
    orgId,
    { enabled: true, trigger_type: "manual", include_flows: true },
    LIMITS.MAX_MCP_FLOW_TOOLS,
    0,
  );
  const names = flowToolNames(results);
  const tools: FlowTool[] = [];
  for (const [i, flow] of results.entries()) {
    const variables = manualVariables(flow);
    if (!variables) continue;
    tools.push({
      name: names[i],
      title: flow.flow_name,
      description: runToolDescription(flow),
      inputSchema: variablesJsonSchema(variables),
      flow,
      variables,
    });
  }
  return tools;
}

/** What calling a flow tool answers: the run it started (or found again, for a repeated step of an agent). */
export interface FlowToolRun {
  execution_id: string;
  flow_id: string;
  status: string;
  resource_uri: string;
}

/** JSON Schema of FlowToolRun: a flow tool's `outputSchema` in the catalog. */
export const FLOW_TOOL_OUTPUT_SCHEMA: JsonSchemaObject = {
  type: "object",
  properties: {
    execution_id: { type: "string" },
    flow_id: { type: "string" },
    status: { type: "string" },
    resource_uri: { type: "string" },
  },
  required: ["execution_id", "flow_id", "status", "resource_uri"],
};

export type FlowToolOutcome =
  { ok: true; execution: FlowToolRun } | { ok: false; code: string; message: string; issues?: ArgumentIssue[] };

export const executionUri = (id: string) => `execution://${id}`;

/** The step of an execution that calls a flow tool (an ai_agent's tool call): the new run is its child. */
export interface ParentStep {
  executionId: string;
  actionId: string;
  /** The parent's position in the chain: the child is one deeper, and admission refuses it past MAX_CHAIN_DEPTH. */
  depth: number;
  correlationKey?: string;
  /** The step's stable key: the child's id derives from it, so a repeated step finds the same child. */
  idempotencyKey: string;
}

/** Who starts a flow tool's run, as the execution records it. */
export interface FlowToolCaller {
  orgId: string;
  actor: string;
  user?: { id?: string; email?: string };
  /** How the call came in (`mcp`, `tools.call`, `ai_agent` ...), kept in the run's trigger event. */
  via: string;
  parent?: ParentStep;
}

export const findFlowTool = async (env: Env, orgId: string, name: string): Promise<FlowTool | undefined> =>
  (await listFlowTools(env, orgId)).find((t) => t.name === name);

/**
 * Starts the run of a flow tool with checked variables (checkArguments) through the one start path. Admission's
 * refusal (the flow disabled or gone since the listing, a chain too deep) is thrown as its 4xx AppError.
 */
export async function startFlowRun(
  env: Env,
  caller: FlowToolCaller,
  tool: FlowTool,
  variables: Record<string, unknown>,
): Promise<FlowToolRun> {
  const { orgId, parent } = caller;
  const chain = parent
    ? {
        depth: parent.depth + 1,
        // As trigger-workflow's: the child names its parent (listed as its parent_execution_id) and shares its key.
        workflowContext: {
          workflow_exec_id: parent.executionId,
          workflow_exec_task_id: parent.actionId,
          workflow_role: "flow_tool",
          _execution_chain: { parent_execution_id: parent.executionId, parent_task_id: parent.actionId, depth: parent.depth + 1 },
        },
        dedupeKey: `child:${parent.idempotencyKey}`,
        ...(parent.correlationKey !== undefined ? { correlationKey: parent.correlationKey } : {}),
      }
    : {};
  const started = await startExecution(env, {
    orgId,
    // By id: read again, so a flow disabled or deleted since the listing is refused.
    flow: tool.flow.id,
    triggerEvent: {
      type: "manual",
      org_id: orgId,
      entity_id: null,
      caller: { actor: caller.actor },
      via: caller.via,
      ...(parent ? { parent_execution_id: parent.executionId } : {}),
    },
    variables,
    ...(caller.user ? { user: caller.user } : {}),
    ...chain,
  });
  const row = started.snapshot ? null : await getExecutionRow(env.DB, orgId, started.id);
  return {
    execution_id: started.id,
    flow_id: tool.flow.id,
    status: started.snapshot?.state.status ?? row?.status ?? "pending",
    resource_uri: executionUri(started.id),
  };
}

/** MCP's call: checks the arguments and starts the run; a refusal (bad arguments, admission's no) is an outcome. */
export async function startFlowTool(
  env: Env,
  principal: Principal,
  tool: FlowTool,
  args: Record<string, unknown>,
): Promise<FlowToolOutcome> {
  const checked = checkArguments(tool.variables, args);
  if (!checked.ok) return { ok: false, code: "VALIDATION_ERROR", message: "Invalid arguments", issues: checked.issues };
  try {
    const caller = { orgId: principal.orgId, actor: principal.actor, user: startedBy(principal), via: "mcp" };
    return { ok: true, execution: await startFlowRun(env, caller, tool, checked.variables) };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
