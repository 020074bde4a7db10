import type { ErrorDetail } from "../../lib/errors";
import { AutomationFlowInputSchema, type AutomationFlow, type AutomationFlowInput } from "../../schemas/flow";
import { defineLens, nativeOnlyFields, type Reading } from "../lens";
import { TpAutomationSchema, type TpTriggerType } from "./schemas";

/**
 * TrustPager automation ⇄ core flow. The automation's own fields map onto the flow (name → flow_name, actions in
 * sequence order, conditions as simple conditions); what the core model has no place for (the trigger_type, the
 * actions' sequence numbers, the trigger rows' creation times) is kept in the configuration of a `manual`
 * trigger with id `tp_meta`, whose configuration takes extension keys. That trigger also lets every TrustPager
 * automation be run by hand, which the document's POST /:id/trigger needs.
 */

export const META_ID = "tp_meta";
/** The field.changed trigger and changed_to condition a stage_changed automation stands for. */
export const STAGE_ID = "tp_stage";
/** The any-form trigger of a form_completed automation without trigger rows. */
export const DEFAULT_ID = "tp_default";
const SYNTHETIC = new Set([META_ID, STAGE_ID, DEFAULT_ID]);
export const DEFAULT_STAGE_MODULE = "deals";
const STAGE_FIELD = "stage_id";

export interface TpRow {
  id: string;
  source_type: Exclude<TpTriggerType, "stage_changed">;
  source_id: string | null;
  config: Record<string, unknown>;
  created_at: string | null;
}
export interface TpAction {
  id: string;
  action_type: string;
  sequence: number;
  name: string | null;
  config: unknown;
}
export interface TpCondition {
  field: string;
  operator: string;
  value?: unknown;
}
/** The TrustPager view of an automation, without the server-set fields. */
export interface TpModel {
  name: string;
  description: string | null;
  trigger_type: TpTriggerType;
  stage_id: string | null;
  stage_module: string | null;
  conditions: TpCondition[] | null;
  enabled: boolean;
  triggers: TpRow[];
  actions: TpAction[];
}

interface TpMeta {
  trigger_type: TpTriggerType;
  stage_id?: string | null;
  stage_module?: string | null;
  sequences?: Record<string, number>;
  rows?: Record<string, { created_at?: string }>;
}

const RECORD_TYPES = {
  record_created: "record.created",
  record_updated: "record.updated",
  record_deleted: "record.deleted",
} as const;
const bySequence = (a: TpAction, b: TpAction) => a.sequence - b.sequence;

/** Checks that the core model cannot check with TrustPager's field names. */
function modelProblems(m: TpModel): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const at = (path: string, message: string) => problems.push({ path, location: "json", message });
  if (m.trigger_type === "stage_changed" && !m.stage_id) at("stage_id", "stage_changed automations need a stage_id");
  m.triggers.forEach((r, i) => {
    if (r.source_type.startsWith("record_") && !r.source_id)
      at(`triggers.${i}.source_id`, `${r.source_type} triggers need the module as source_id`);
    if (r.source_type === "schedule" && typeof r.config.cron !== "string")
      at(`triggers.${i}.config.cron`, "schedule triggers need config.cron");
    if (r.source_type.startsWith("record_") && Object.keys(r.config).length > 0)
      at(`triggers.${i}.config`, `${r.source_type} triggers take no config`);
  });
  return problems;
}

function rowToCore(r: TpRow): Record<string, unknown> {
  switch (r.source_type) {
    case "form_completed":
      return {
        id: r.id,
        type: "frontend_submission",
        configuration: { ...r.config, ...(r.source_id ? { source_id: r.source_id } : {}) },
      };
    case "record_created":
    case "record_updated":
    case "record_deleted":
      return { id: r.id, type: RECORD_TYPES[r.source_type], configuration: { module: r.source_id } };
    case "schedule":
      return { id: r.id, type: "schedule", configuration: r.config };
    case "manual":
      return { id: r.id, type: "manual", configuration: { ...r.config, ...(r.source_id ? { module: r.source_id } : {}) } };
  }
}

/** The core flow document (input shape) of a TrustPager automation. */
export function toCoreInput(m: TpModel): AutomationFlowInput {
  const actions = [...m.actions].sort(bySequence);
  const meta: TpMeta = {
    trigger_type: m.trigger_type,
    ...(m.stage_id ? { stage_id: m.stage_id } : {}),
    ...(m.stage_module ? { stage_module: m.stage_module } : {}),
    sequences: Object.fromEntries(actions.map((a) => [a.id, a.sequence])),
    rows: Object.fromEntries(m.triggers.filter((r) => r.created_at).map((r) => [r.id, { created_at: r.created_at! }])),
  };
  const triggers: Record<string, unknown>[] = [{ id: META_ID, type: "manual", configuration: { trustpager: meta } }];
  const conditions: Record<string, unknown>[] = (m.conditions ?? []).map((c) => ({ ...c }));
  if (m.trigger_type === "stage_changed") {
    triggers.push({
      id: STAGE_ID,
      type: "field.changed",
      configuration: { module: m.stage_module ?? DEFAULT_STAGE_MODULE, field: STAGE_FIELD },
    });
    conditions.push({ id: STAGE_ID, field: STAGE_FIELD, operator: "changed_to", value: m.stage_id });
  }
  if (m.trigger_type === "form_completed" && m.triggers.length === 0)
    triggers.push({ id: DEFAULT_ID, type: "frontend_submission", configuration: {} });
  triggers.push(...m.triggers.map(rowToCore));
  return {
    flow_name: m.name,
    ...(m.description ? { description: m.description } : {}),
    enabled: m.enabled,
    triggers,
    ...(conditions.length > 0 ? { conditions } : {}),
    actions: actions.map((a) => ({
      id: a.id,
      type: a.action_type,
      ...(a.name ? { name: a.name } : {}),
      ...(a.config !== undefined && a.config !== null ? { config: a.config } : {}),
    })),
  } as AutomationFlowInput;
}

/** Core validation paths (`triggers.3…`, `actions.1…`) named as the TrustPager fields they came from. */
function errorPath(path: string[], m: TpModel, input: AutomationFlowInput): string {
  // The synthetic triggers come first: the rows start after them.
  const synthetic = (input.triggers as { id?: string }[]).filter((t) => t.id && SYNTHETIC.has(t.id)).length;
  const joined = path.join(".");
  const t = /^triggers\.(\d+)(.*)$/.exec(joined);
  if (t) {
    const i = Number(t[1]) - synthetic;
    return i >= 0 ? `triggers.${i}${t[2].replace(/^\.configuration/, ".config")}` : "trigger_type";
  }
  const c = /^conditions\.(\d+)(.*)$/.exec(joined);
  if (c && Number(c[1]) >= (m.conditions?.length ?? 0)) return "stage_id";
  return joined.replace(/^flow_name/, "name").replace(/^(actions\.\d+)\.type/, "$1.action_type");
}

function rowFromCore(t: AutomationFlow["triggers"][number], created: string | null): TpRow | null {
  const cfg = { ...((t.configuration ?? {}) as Record<string, unknown>) };
  const row = (source_type: TpRow["source_type"], source_id: unknown): TpRow => ({
    id: t.id,
    source_type,
    source_id: typeof source_id === "string" ? source_id : null,
    config: cfg,
    created_at: created,
  });
  switch (t.type) {
    case "frontend_submission": {
      const { source_id, ...rest } = cfg;
      return { ...row("form_completed", source_id), config: rest };
    }
    case "record.created":
      return { ...row("record_created", cfg.module), config: {} };
    case "record.updated":
      return { ...row("record_updated", cfg.module), config: {} };
    case "record.deleted":
      return { ...row("record_deleted", cfg.module), config: {} };
    case "schedule":
      return row("schedule", null);
    case "manual": {
      const { module, ...rest } = cfg;
      return { ...row("manual", module), config: rest };
    }
    default:
      return null;
  }
}

/** The TrustPager view of a stored flow, naming the parts the model cannot hold (made or edited through another API). */
function fromCore(flow: AutomationFlow): Reading<TpModel, undefined> {
  const metaTrigger = flow.triggers.find((t) => t.id === META_ID && t.type === "manual");
  const meta = (metaTrigger?.configuration as { trustpager?: TpMeta } | undefined)?.trustpager;
  const rows: TpRow[] = [];
  const untranslated = meta === undefined ? [`triggers (no ${META_ID} trigger)`] : [];
  untranslated.push(...nativeOnlyFields(flow));
  if (flow.error_handling) untranslated.push("error_handling");
  flow.triggers.forEach((t, i) => {
    if (SYNTHETIC.has(t.id)) return;
    const row = rowFromCore(t, meta?.rows?.[t.id]?.created_at ?? null);
    if (row) rows.push(row);
    else untranslated.push(`triggers.${i}`);
  });
  const conditions: TpCondition[] = [];
  (flow.conditions ?? []).forEach((c, i) => {
    if (c.id === STAGE_ID) return;
    if ("field" in c && "operator" in c) {
      const { id: _id, ...rest } = c;
      conditions.push(rest as TpCondition);
    } else untranslated.push(`conditions.${i}`);
  });
  const stage = flow.conditions?.find((c) => c.id === STAGE_ID) as { value?: unknown } | undefined;
  const model: TpModel = {
    name: flow.flow_name,
    description: flow.description ?? null,
    trigger_type: meta?.trigger_type ?? "manual",
    stage_id: meta?.stage_id ?? (typeof stage?.value === "string" ? stage.value : null),
    stage_module: meta?.stage_module ?? null,
    conditions,
    enabled: flow.enabled,
    triggers: rows,
    actions: flow.actions.map((a, i) => ({
      id: a.id,
      action_type: a.type,
      sequence: meta?.sequences?.[a.id] ?? i + 1,
      name: a.name ?? null,
      config: (a as { config?: unknown }).config ?? null,
    })),
  };
  return { doc: model, keep: undefined, untranslated };
}

/**
 * TrustPager automation ⇄ core flow (the dialect contract: src/dialects/lens.ts). A flow the model cannot hold shows
 * `x_native` and is refused on writes.
 */
export const trustpagerLens = defineLens({
  title: "the TrustPager API",
  noun: "automation",
  schema: TpAutomationSchema,
  core: AutomationFlowInputSchema,
  check: modelProblems,
  toCore: toCoreInput,
  errorPath,
  fromCore,
  roundTrip: {
    keeps: (f) => [f.flow_name, f.description ?? null, f.triggers, f.conditions?.length ? f.conditions : [], f.actions],
  },
});
