import { AppError } from "../../lib/errors";
import { AutomationFlowInputSchema, type AutomationFlow, type AutomationFlowInput } from "../../schemas/flow";
import { stableJson, usesNativeOnly } from "../stable-json";

/**
 * Coherence automation ⇄ core flow. Coherence's vocabulary is the engine's own (record.* / field.changed /
 * schedule / webhook / manual triggers, simple conditions, its action types), so the translation is mostly
 * renaming: name → flow_name, the one `trigger` → `triggers[0]` (`schedule` → `cron`), `trigger.module` also
 * → `entity_schema` (what the `module` filter searches). A webhook trigger is called at `<webhook_path>.<token>`
 * with an unguessable URL token (lib/webhook-tokens.ts): Coherence documents no signature, so knowing the URL is
 * the credential. The engine keeps only the token's hash; the dialect shows the URL when it makes a token.
 */

export const TRIGGER_ID = "coh_trigger";

export interface CohTrigger {
  type: string;
  module?: string;
  field?: string;
  schedule?: string;
  webhook_path?: string;
}
export interface CohModel {
  name: string;
  description: string | null;
  enabled: boolean;
  trigger: CohTrigger;
  conditions: { field: string; operator: string; value?: unknown }[];
  actions: { type: string; config?: Record<string, unknown> }[];
  error_handling?: Record<string, unknown>;
}

function triggerToCore(t: CohTrigger, token: string | undefined, id = TRIGGER_ID): Record<string, unknown> {
  const base = { id, type: t.type };
  switch (t.type) {
    case "record.created":
    case "record.updated":
    case "record.deleted":
      return { ...base, configuration: { module: t.module } };
    case "field.changed":
      return { ...base, configuration: { module: t.module, field: t.field } };
    case "schedule":
      return { ...base, configuration: { cron: t.schedule } };
    case "webhook":
      return { ...base, configuration: { path: t.webhook_path, allow_unsigned: true, ...(token ? { token } : {}) } };
    default:
      return { ...base, configuration: t.module ? { module: t.module } : {} };
  }
}

/** The core flow document of a Coherence automation; `actionIds` keeps stored action ids by position. */
export interface CoreOptions {
  /** A new webhook URL token (hashed when stored); without it the stored trigger keeps its own. */
  token?: string;
  /** Stored action ids, kept by position. */
  actionIds?: string[];
  /** The stored trigger's id (a flow made natively has its own). */
  triggerId?: string;
}

export function toCoreInput(m: CohModel, opts: CoreOptions = {}): AutomationFlowInput {
  return {
    flow_name: m.name,
    ...(m.description ? { description: m.description } : {}),
    enabled: m.enabled,
    ...(m.trigger.module ? { entity_schema: m.trigger.module } : {}),
    triggers: [triggerToCore(m.trigger, opts.token, opts.triggerId)],
    ...(m.conditions.length > 0 ? { conditions: m.conditions.map((c) => ({ ...c })) } : {}),
    actions: m.actions.map((a, i) => ({
      ...(opts.actionIds?.[i] ? { id: opts.actionIds[i] } : {}),
      type: a.type,
      ...(a.config !== undefined ? { config: a.config } : {}),
    })),
    ...(m.error_handling ? { error_handling: m.error_handling } : {}),
  } as AutomationFlowInput;
}

/** Validates as a core flow; a 400 names Coherence's fields (`trigger.schedule` for the cron, …). */
export function toValidCore(m: CohModel, opts: CoreOptions = {}) {
  const parsed = AutomationFlowInputSchema.safeParse(toCoreInput(m, opts));
  if (parsed.success) return parsed.data;
  throw new AppError(
    400,
    "VALIDATION_ERROR",
    "Invalid request body",
    parsed.error.issues.map((i) => ({
      path: i.path
        .map(String)
        .join(".")
        .replace(/^flow_name/, "name")
        .replace(/^triggers\.0\.configuration\.cron/, "trigger.schedule")
        .replace(/^triggers\.0\.configuration/, "trigger")
        .replace(/^entity_schema/, "trigger.module"),
      location: "json",
      message: i.message,
      code: i.code,
    })),
  );
}

function triggerFromCore(t: AutomationFlow["triggers"][number]): { trigger: CohTrigger; hasToken?: boolean } | null {
  const cfg = (t.configuration ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  switch (t.type) {
    case "record.created":
    case "record.updated":
    case "record.deleted":
      return { trigger: { type: t.type, module: str(cfg.module) } };
    case "field.changed":
      return { trigger: { type: t.type, module: str(cfg.module), field: str(cfg.field) } };
    case "schedule":
      return { trigger: { type: t.type, schedule: str(cfg.cron) } };
    case "webhook":
      // Coherence's webhooks are unsigned and gated by their URL token; any other webhook is the engine's own.
      return cfg.token_configured === true && cfg.allow_unsigned === true && cfg.secret_configured !== true
        ? { trigger: { type: "webhook", webhook_path: str(cfg.path) }, hasToken: true }
        : null;
    case "manual":
      return { trigger: { type: "manual", ...(str(cfg.module) ? { module: str(cfg.module) } : {}) } };
    default:
      return null;
  }
}

/**
 * The Coherence view of a stored flow. `exact` is false when the flow has parts this model cannot hold (more than
 * one trigger, epilot-only features, signed webhooks …): the caller adds `x_native` and refuses writes.
 */
export function fromCore(flow: AutomationFlow): {
  model: CohModel;
  exact: boolean;
  /** The trigger is a webhook with its URL token stored. */
  hasToken: boolean;
  actionIds: string[];
  triggerId?: string;
} {
  const first = flow.triggers.length === 1 ? triggerFromCore(flow.triggers[0]) : null;
  const conditions: CohModel["conditions"] = [];
  let exact = first !== null && !usesNativeOnly({ ...flow, entity_schema: undefined } as unknown as Record<string, unknown>);
  for (const c of flow.conditions ?? []) {
    if ("field" in c && "operator" in c) {
      const { id: _id, ...rest } = c;
      conditions.push(rest as CohModel["conditions"][number]);
    } else exact = false;
  }
  const model: CohModel = {
    name: flow.flow_name,
    description: flow.description ?? null,
    enabled: flow.enabled,
    trigger: first?.trigger ?? { type: flow.triggers[0]?.type ?? "manual" },
    conditions,
    actions: flow.actions.map((a) => ({ type: a.type, config: (a as { config?: Record<string, unknown> }).config })),
    ...(flow.error_handling ? { error_handling: flow.error_handling as Record<string, unknown> } : {}),
  };
  const actionIds = flow.actions.map((a) => a.id);
  const triggerId = flow.triggers[0]?.id;
  // entity_schema is derived from the trigger's module; a flow made natively may lack it.
  if (flow.entity_schema !== undefined && flow.entity_schema !== model.trigger.module) exact = false;
  if (exact) {
    const back = AutomationFlowInputSchema.safeParse(toCoreInput(model, { actionIds, triggerId }));
    const pick = (f: Record<string, unknown>) =>
      stableJson([f.flow_name, f.description ?? null, f.triggers, f.conditions ?? [], f.actions, f.error_handling ?? null]);
    exact = back.success && pick(back.data as Record<string, unknown>) === pick(flow as unknown as Record<string, unknown>);
  }
  return { model, exact, hasToken: first?.hasToken === true, actionIds, triggerId };
}
