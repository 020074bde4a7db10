import type { AppError } from "../../lib/errors";
import {
  ACTION_TYPES,
  AutomationFlowInputSchema,
  type AutomationFlow,
  type AutomationFlowInput,
  type FlowAction,
  type FlowTrigger,
} from "../../schemas/flow";
import { splitToolName, toolNameOf } from "../../services/tool-names";
import { defineLens, invalidBody, type Reading } from "../lens";
import { WorkflowSchema, type WorkflowStatus } from "./workflows-schemas";

/**
 * Arrotech workflow ⇄ core flow (a dialect: the workflow IS the flow, its id the flow's id).
 *
 * - name → flow_name; status → enabled (active) or disabled (paused, draft); steps → actions in order: a provider tool
 *   `<platform>_<action>` becomes an `integration` action (params, connection_id), an engine action type becomes that
 *   action with `params` as its config; continue_on_error → allow_failure.
 * - trigger_type / trigger_config → one trigger of that type with that configuration (`manual`: none beyond the meta
 *   trigger below).
 * - The flow's first `manual` trigger is the workflow's "meta" trigger; every workflow has one, so every workflow can
 *   be run by hand (and is an MCP tool). Its `variables` declare the run's input (src/schemas/flow-variables.ts, what
 *   the MCP server reads): a workflow variable `x: value` is stored as the declaration `{type, default: value}` (null:
 *   no default) and read back as its default. What the core flow has no field for (the draft mark,
 *   `workflow_metadata`) lives under the key `arrotech` of that configuration, which takes extension keys. For a
 *   `manual` workflow, the rest of that configuration is its trigger_config.
 *
 * A native flow reads as a workflow too; what the shape cannot hold (conditions, several triggers, schedules, loops,
 * retry policies, …) is listed in `untranslated` and the caller shows the whole flow as `x_native`.
 */

export const META_KEY = "arrotech";
/** Ids given to the meta trigger and the workflow's trigger when the flow has none yet. */
export const META_TRIGGER_ID = "arrotech_meta";
export const MAIN_TRIGGER_ID = "arrotech_trigger";

type Json = Record<string, unknown>;

export interface WorkflowStep {
  id?: string;
  name?: string;
  tool: string;
  params: Json;
  connection_id?: string;
  continue_on_error?: boolean;
}

export interface WorkflowModel {
  name: string;
  description: string | null;
  status: WorkflowStatus;
  trigger_type: string;
  trigger_config: Json;
  variables: Json;
  steps: WorkflowStep[];
  workflow_metadata: Json;
}

/** Ids of the stored triggers a write keeps (a flow made natively has its own). */
export interface TriggerIds {
  metaId?: string;
  triggerId?: string;
}

interface ArrotechMeta {
  status?: "draft";
  workflow_metadata?: Json;
}

/** The manual trigger's key for declared variables (src/schemas/flow-variables.ts). */
const VARIABLES_KEY = "variables";

/** JSON type of a variable's value, as a declaration names it. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "number" ? "number" : typeof v === "boolean" ? "boolean" : "string";
}

/** Workflow variables (name → value) as declarations (name → {type, default}). */
export function variablesToDeclarations(values: Json): Json {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, v === null ? { type: "string" } : { type: jsonType(v), default: v }]),
  );
}

/** Declarations as workflow variables: each one's default (null when it has none). */
export function declarationsToVariables(declarations: unknown): Json {
  if (!isObject(declarations)) return {};
  return Object.fromEntries(
    Object.entries(declarations).map(([k, d]) => [k, isObject(d) && d.default !== undefined ? d.default : null]),
  );
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (o: Json | undefined): o is Json => o !== undefined && Object.keys(o).length > 0;
const ENGINE_ACTIONS: ReadonlySet<string> = new Set(ACTION_TYPES);

/** The action a step stands for; throws 400 naming `steps.<i>` for an unknown tool. */
export function stepToAction(step: WorkflowStep, index: number): Json {
  const base: Json = {
    ...(step.id !== undefined ? { id: step.id } : {}),
    ...(step.name !== undefined ? { name: step.name } : {}),
    ...(step.continue_on_error !== undefined ? { allow_failure: step.continue_on_error } : {}),
  };
  const provider = splitToolName(step.tool);
  if (provider) {
    const config = {
      platform: provider.platform,
      action: provider.action,
      ...(step.connection_id !== undefined ? { connection_id: step.connection_id } : {}),
      params: step.params,
    };
    return { ...base, type: "integration", config };
  }
  if (ENGINE_ACTIONS.has(step.tool)) {
    if (step.connection_id !== undefined) {
      throw stepError(index, "connection_id", "connection_id applies to provider tools only (`<platform>_<action>`)");
    }
    // The catalog's create_record tool names the module `schema`; the action calls it `module`.
    const params =
      step.tool === "create_record" && "schema" in step.params && !("module" in step.params)
        ? (({ schema, ...rest }) => ({ module: schema, ...rest }))(step.params)
        : step.params;
    return { ...base, type: step.tool, ...(nonEmpty(params) ? { config: params } : {}) };
  }
  throw stepError(
    index,
    "tool",
    `Unknown tool "${step.tool.slice(0, 100)}": use a provider tool (GET /v1/tools?include_all=true) or an engine action type`,
  );
}

function stepError(index: number, field: string, message: string): AppError {
  return invalidBody([{ path: `steps.${index}.${field}`, location: "json", message }]);
}

const STEP_ACTION_KEYS = new Set(["id", "name", "allow_failure", "type", "config"]);

/** The step an action stands for, with the action's parts a step cannot hold. */
export function actionToStep(action: FlowAction | Json, index: number): { step: WorkflowStep; untranslated: string[] } {
  const a = action as Json;
  const untranslated = Object.keys(a)
    .filter((k) => !STEP_ACTION_KEYS.has(k) && a[k] !== undefined)
    .map((k) => `actions.${index}.${k}`);
  const config = isObject(a.config) ? a.config : {};
  const base = {
    ...(typeof a.id === "string" ? { id: a.id } : {}),
    ...(typeof a.name === "string" ? { name: a.name } : {}),
    ...(typeof a.allow_failure === "boolean" ? { continue_on_error: a.allow_failure } : {}),
  };
  if (a.type === "integration" && typeof config.platform === "string" && typeof config.action === "string") {
    if (config.customFields !== undefined) untranslated.push(`actions.${index}.config.customFields`);
    const step: WorkflowStep = {
      ...base,
      tool: toolNameOf(config.platform, config.action),
      params: isObject(config.params) ? config.params : {},
      ...(typeof config.connection_id === "string" ? { connection_id: config.connection_id } : {}),
    };
    return { step, untranslated };
  }
  return { step: { ...base, tool: String(a.type), params: config }, untranslated };
}

/** The core flow document of a workflow (not yet validated). */
export function workflowToFlowInput(m: WorkflowModel, ids: TriggerIds = {}): AutomationFlowInput {
  const meta: ArrotechMeta = {
    ...(m.status === "draft" ? { status: "draft" as const } : {}),
    ...(nonEmpty(m.workflow_metadata) ? { workflow_metadata: m.workflow_metadata } : {}),
  };
  const manual = m.trigger_type === "manual";
  const metaConfig: Json = {
    ...(manual ? m.trigger_config : {}),
    ...(nonEmpty(m.variables) ? { [VARIABLES_KEY]: variablesToDeclarations(m.variables) } : {}),
    ...(nonEmpty(meta as Json) ? { [META_KEY]: meta } : {}),
  };
  const triggers: Json[] = [{ id: ids.metaId ?? META_TRIGGER_ID, type: "manual", configuration: metaConfig }];
  if (!manual) triggers.push({ id: ids.triggerId ?? MAIN_TRIGGER_ID, type: m.trigger_type, configuration: m.trigger_config });
  return {
    flow_name: m.name,
    ...(m.description ? { description: m.description } : {}),
    enabled: m.status === "active",
    triggers,
    actions: m.steps.map(stepToAction),
  } as AutomationFlowInput;
}

/** Maps a core flow issue's path onto the workflow's field names (`steps.0.params.text`, `trigger_config.cron`). */
function workflowPath(p: string[], m: WorkflowModel): string {
  if (p[0] === "flow_name") return ["name", ...p.slice(1)].join(".");
  if (p[0] === "triggers") {
    const rest = p.slice(3);
    if (p[1] === "0") {
      if (p[3] === VARIABLES_KEY) return ["variables", ...p.slice(4, 5)].join(".");
      if (p[3] === META_KEY) return ["workflow_metadata", ...p.slice(5)].join(".");
      return m.trigger_type === "manual" ? ["trigger_config", ...rest].join(".") : "trigger_config";
    }
    return p[2] === "type" ? "trigger_type" : ["trigger_config", ...rest].join(".");
  }
  if (p[0] === "actions" && p[1] !== undefined) {
    const step = `steps.${p[1]}`;
    const tool = m.steps[Number(p[1])]?.tool ?? "";
    const provider = splitToolName(tool) !== null;
    if (p[2] === "config") {
      if (provider && p[3] === "connection_id") return `${step}.connection_id`;
      if (provider && p[3] === "params") return [step, "params", ...p.slice(4)].join(".");
      return [step, "params", ...p.slice(3)].join(".");
    }
    if (p[2] === "allow_failure") return `${step}.continue_on_error`;
    return [step, ...p.slice(2)].join(".");
  }
  return p.join(".");
}

/** The draft mark, metadata and variables a flow's meta trigger holds, and the rest of its configuration. */
function metaOf(flow: Pick<AutomationFlow, "triggers">): { index: number; meta: ArrotechMeta; variables: Json; rest: Json } {
  const index = flow.triggers.findIndex((t) => t.type === "manual");
  if (index < 0) return { index, meta: {}, variables: {}, rest: {} };
  const { [META_KEY]: raw, [VARIABLES_KEY]: declared, ...rest } = (flow.triggers[index].configuration ?? {}) as Json;
  const m = isObject(raw) ? raw : {};
  const meta: ArrotechMeta = {
    ...(m.status === "draft" ? { status: "draft" as const } : {}),
    ...(isObject(m.workflow_metadata) ? { workflow_metadata: m.workflow_metadata } : {}),
  };
  return { index, meta, variables: declarationsToVariables(declared), rest };
}

/** The workflow's variables (name → value; null when declared without a default). */
export function workflowVariables(flow: Pick<AutomationFlow, "triggers">): Json {
  return metaOf(flow).variables;
}

/** The defaults of the declared variables: what `{{ variables.x }}` is in a run started without that input. */
export function declaredVariables(flow: Pick<AutomationFlow, "triggers">): Json {
  return Object.fromEntries(Object.entries(workflowVariables(flow)).filter(([, v]) => v !== null));
}

/** active = enabled; a disabled flow is a draft when its meta trigger says so, else paused. */
export function workflowStatus(flow: Pick<AutomationFlow, "triggers" | "enabled">): WorkflowStatus {
  if (flow.enabled) return "active";
  return metaOf(flow).meta.status === "draft" ? "draft" : "paused";
}

/** Flow fields the workflow shape has no place for. */
const FLOW_ONLY_FIELDS = [
  "trigger_conditions",
  "entity_schema",
  "conditions",
  "schedules",
  "loops",
  "max_executions",
  "system_flow",
  "protected",
  "retry_policy",
  "error_handling",
  "concurrency_limit",
] as const;
const COMPARED = ["flow_name", "description", "triggers", "actions", ...FLOW_ONLY_FIELDS] as const;

const meaningful = (v: unknown) =>
  v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0) && !(isObject(v) && !nonEmpty(v));

/** A manual trigger that says nothing (the meta trigger a dialect write adds, or a native one without configuration). */
const isBareManual = (t: Json) => t.type === "manual" && !nonEmpty(isObject(t.configuration) ? t.configuration : undefined);

/** What a round trip must give again: the meaningful flow fields, bare manual triggers left out. */
function comparable(doc: object): Json {
  const out: Json = {};
  for (const k of COMPARED) {
    let v = (doc as Json)[k];
    if (k === "triggers" && Array.isArray(v)) v = (v as Json[]).filter((t) => !isBareManual(t));
    if (meaningful(v)) out[k] = v;
  }
  return out;
}

/** The workflow view of any flow of the organization, naming the parts the workflow cannot hold. */
function flowToWorkflow(flow: AutomationFlow): Reading<WorkflowModel, TriggerIds> {
  const { index: metaIndex, meta, variables, rest } = metaOf(flow);
  const others = flow.triggers.map((t, i) => ({ t, i })).filter(({ i }) => i !== metaIndex);
  const untranslated: string[] = FLOW_ONLY_FIELDS.filter((k) => meaningful(flow[k]));
  let main: FlowTrigger | undefined;
  if (others.length > 0) {
    main = others[0].t;
    if (others.length > 1) untranslated.push(`triggers (${flow.triggers.length} triggers; trigger_type shows the first)`);
    if (nonEmpty(rest)) untranslated.push(`triggers.${metaIndex}.configuration`);
  }
  const steps = flow.actions.map((a, i) => {
    const { step, untranslated: u } = actionToStep(a, i);
    untranslated.push(...u);
    return step;
  });
  const model: WorkflowModel = {
    name: flow.flow_name,
    description: flow.description ?? null,
    status: workflowStatus(flow),
    trigger_type: main?.type ?? "manual",
    trigger_config: main ? ((main.configuration ?? {}) as Json) : rest,
    variables,
    steps,
    workflow_metadata: meta.workflow_metadata ?? {},
  };
  const ids: TriggerIds = {
    ...(metaIndex >= 0 ? { metaId: flow.triggers[metaIndex].id } : {}),
    ...(main ? { triggerId: main.id } : {}),
  };
  return { doc: model, keep: ids, untranslated };
}

/**
 * Arrotech workflow ⇄ core flow (the dialect contract: src/dialects/lens.ts). Only the round trip decides whether a
 * workflow is editable; `untranslated` explains a loss and is shown as `x_untranslated`.
 */
export const workflowLens = defineLens({
  title: "the workflow shape",
  noun: "workflow",
  schema: WorkflowSchema,
  core: AutomationFlowInputSchema,
  toCore: workflowToFlowInput,
  errorPath: workflowPath,
  fromCore: flowToWorkflow,
  roundTrip: { keeps: comparable, decidesAlone: true },
  showsUntranslated: true,
  refusal: (untranslated) =>
    `This workflow uses features the workflow shape cannot express (${untranslated.join(", ")}; see x_native): ` +
    "only status active/paused can be set here; edit it through /v1/automation/flows",
});
