import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AutomationFlow } from "../schemas/flow";
import type { FlowVariables } from "../schemas/flow-variables";
import { startExecution, startedBy } from "../services/executions";
import { getExecutionRow } from "../store/executions";
import { searchFlows } from "../store/flows";
import { checkArguments, variablesJsonSchema, type ArgumentIssue, type JsonSchemaObject } from "./flow-input";

/**
 * Flows as MCP tools: every enabled flow of the caller's organization with a `manual` trigger, named
 * `flow_<slug of its name>_<first 8 hex digits of its id>` (the whole id when two flows share the 8 digits), its
 * input schema from the manual trigger's declared `variables`. Calling one starts an execution through the
 * normal start path (admission included) and answers at once with the execution id; the run is a resource.
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

export type FlowToolOutcome =
  | { ok: true; execution: { execution_id: string; flow_id: string; status: string; resource_uri: string } }
  | { ok: false; code: string; message: string; issues?: ArgumentIssue[] };

export const executionUri = (id: string) => `execution://${id}`;

/** Checks the arguments and starts the run; a refusal (bad arguments, flow disabled or gone since the listing) is an outcome. */
export async function startFlowTool(
  env: Env,
  principal: Principal,
  tool: FlowTool,
  args: Record<string, unknown>,
): Promise<FlowToolOutcome> {
  const checked = checkArguments(tool.variables, args);
  if (!checked.ok) return { ok: false, code: "VALIDATION_ERROR", message: "Invalid arguments", issues: checked.issues };
  try {
    const started = await startExecution(env, {
      orgId: principal.orgId,
      // By id: read again, so a flow disabled or deleted since the listing is refused.
      flow: tool.flow.id,
      triggerEvent: { type: "manual", org_id: principal.orgId, entity_id: null, caller: { actor: principal.actor }, via: "mcp" },
      variables: checked.variables,
      user: startedBy(principal),
    });
    const row = started.snapshot ? null : await getExecutionRow(env.DB, principal.orgId, started.id);
    return {
      ok: true,
      execution: {
        execution_id: started.id,
        flow_id: tool.flow.id,
        status: started.snapshot?.state.status ?? row?.status ?? "pending",
        resource_uri: executionUri(started.id),
      },
    };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
