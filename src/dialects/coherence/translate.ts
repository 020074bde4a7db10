import { AutomationFlowInputSchema, type AutomationFlow, type AutomationFlowInput } from "../../schemas/flow";
import { NATIVE_ONLY_FIELDS, defineLens, nativeOnlyFields, type Reading } from "../lens";
import { CohAutomationSchema } from "./schemas";

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

/** What a write keeps of the stored flow besides the model; `actionIds` keeps stored action ids by position. */
export interface CoreOptions {
  /** A new webhook URL token (hashed when stored); without it the stored trigger keeps its own. */
  token?: string;
  /** Read only: the stored trigger is a webhook with its URL token (the token itself is never read back). */
  hasToken?: boolean;
  /** Stored action ids, kept by position. */
  actionIds?: string[];
  /** The stored trigger's id (a flow made natively has its own). */
  triggerId?: string;
}

/** The core flow document of a Coherence automation. */
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

/** entity_schema is derived from the trigger's module, so it is no native-only feature here. */
const NATIVE_ONLY = NATIVE_ONLY_FIELDS.filter((k) => k !== "entity_schema");

/** The Coherence view of a stored flow, naming what the model cannot hold (more than one trigger, signed webhooks …). */
function fromCore(flow: AutomationFlow): Reading<CohModel, CoreOptions> {
  const first = flow.triggers.length === 1 ? triggerFromCore(flow.triggers[0]) : null;
  const untranslated = first ? [] : [flow.triggers.length === 1 ? "triggers.0" : "triggers"];
  untranslated.push(...nativeOnlyFields(flow, NATIVE_ONLY));
  const conditions: CohModel["conditions"] = [];
  (flow.conditions ?? []).forEach((c, i) => {
    if ("field" in c && "operator" in c) {
      const { id: _id, ...rest } = c;
      conditions.push(rest as CohModel["conditions"][number]);
    } else untranslated.push(`conditions.${i}`);
  });
  const model: CohModel = {
    name: flow.flow_name,
    description: flow.description ?? null,
    enabled: flow.enabled,
    trigger: first?.trigger ?? { type: flow.triggers[0]?.type ?? "manual" },
    conditions,
    actions: flow.actions.map((a) => ({ type: a.type, config: (a as { config?: Record<string, unknown> }).config })),
    ...(flow.error_handling ? { error_handling: flow.error_handling as Record<string, unknown> } : {}),
  };
  // A flow made natively may have an entity_schema its trigger's module does not give.
  if (flow.entity_schema !== undefined && flow.entity_schema !== model.trigger.module) untranslated.push("entity_schema");
  const keep = { hasToken: first?.hasToken === true, actionIds: flow.actions.map((a) => a.id), triggerId: flow.triggers[0]?.id };
  return { doc: model, keep, untranslated };
}

/** Core validation paths named as Coherence's fields (`trigger.schedule` for the cron, …). */
function errorPath(path: string[]): string {
  return path
    .join(".")
    .replace(/^flow_name/, "name")
    .replace(/^triggers\.0\.configuration\.cron/, "trigger.schedule")
    .replace(/^triggers\.0\.configuration/, "trigger")
    .replace(/^entity_schema/, "trigger.module");
}

/** Coherence automation ⇄ core flow (the dialect contract: src/dialects/lens.ts). */
export const coherenceLens = defineLens({
  title: "the Coherence API",
  noun: "automation",
  schema: CohAutomationSchema,
  core: AutomationFlowInputSchema,
  toCore: toCoreInput,
  errorPath,
  fromCore,
  roundTrip: {
    keeps: (f) => [f.flow_name, f.description ?? null, f.triggers, f.conditions ?? [], f.actions, f.error_handling ?? null],
  },
});
