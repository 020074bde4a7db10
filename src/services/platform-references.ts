import type { Env } from "../env";
import type { ErrorDetail } from "../lib/errors";
import { isTemplate } from "../schemas/flow-common";
import type { FlowDoc } from "../store/flows";
import { getFileRows } from "../store/files";
import { requestedPartners } from "../store/partners";
import {
  DOCUMENT_TEMPLATES,
  EMAIL_TEMPLATES,
  INBOXES,
  MAPPING_CONFIGS,
  WEBHOOK_TARGETS,
  existingResourceIds,
  getResource,
} from "../store/platform-resources";

/**
 * The platform resources a flow's epilot actions name by id (docs/platform.md), checked when the flow is saved:
 * a missing one is a 400 naming the field, so a flow never names a target, template, inbox, partner or mapping
 * that does not exist. A templated id (`{{ … }}`) is resolved only at run time and not checked here; a resource
 * deleted after the save fails the run with BAD_CONFIG and `error_info.code` `<RESOURCE>_NOT_FOUND`.
 */

/** Which resource a reference names: each kind answers which of a list of ids exist in the org. */
export type ReferenceKind = "webhook_target" | "email_template" | "document_template" | "inbox" | "file" | "partner";

type Lookup = (env: Env, orgId: string, ids: string[]) => Promise<Set<string>>;

const LOOKUPS: Record<ReferenceKind, { noun: string; exists: Lookup }> = {
  webhook_target: {
    noun: "webhook target",
    exists: (env, orgId, ids) => existingResourceIds(env.DB, WEBHOOK_TARGETS, orgId, ids),
  },
  email_template: {
    noun: "e-mail template",
    exists: (env, orgId, ids) => existingResourceIds(env.DB, EMAIL_TEMPLATES, orgId, ids),
  },
  document_template: {
    noun: "document template",
    exists: (env, orgId, ids) => existingResourceIds(env.DB, DOCUMENT_TEMPLATES, orgId, ids),
  },
  inbox: { noun: "inbox", exists: (env, orgId, ids) => existingResourceIds(env.DB, INBOXES, orgId, ids) },
  // A partner the organization asked for (the partnership may still wait for the other side: the run checks).
  partner: { noun: "partnership with", exists: (env, orgId, ids) => requestedPartners(env.DB, orgId, ids) },
  file: { noun: "file", exists: async (env, orgId, ids) => new Set((await getFileRows(env.DB, orgId, ids)).map((f) => f.id)) },
};

/** One id an action names: where (the field path) and what kind. */
interface Reference {
  path: string;
  kind: ReferenceKind;
  id: string;
}

type Config = Record<string, unknown>;

/** The references of one action, and the fields it needs but lacks. */
function referencesOf(type: string, config: Config, at: string): { refs: Reference[]; missing: string[] } {
  const refs: Reference[] = [];
  const missing: string[] = [];
  const ref = (field: string, kind: ReferenceKind, required: boolean) => {
    const v = config[field];
    if (typeof v === "string" && v !== "") refs.push({ path: `${at}.${field}`, kind, id: v });
    else if (required) missing.push(`${at}.${field}`);
  };
  switch (type) {
    case "trigger-webhook":
      if (config.url === undefined) ref("target_webhook_id", "webhook_target", false);
      break;
    case "inform-erp":
      ref("target_webhook_id", "webhook_target", true);
      break;
    case "send-email":
      ref("email_template_id", "email_template", false);
      if (Array.isArray(config.attachments)) {
        config.attachments.forEach((a, i) => {
          const id = (a as { file_id?: unknown } | null)?.file_id;
          if (typeof id === "string" && id) refs.push({ path: `${at}.attachments.${i}.file_id`, kind: "file", id });
        });
      }
      break;
    case "reply-email":
      ref("email_template_id", "email_template", true);
      break;
    case "trigger-share-entity": {
      const ids = Array.isArray(config.partner_org_ids) ? config.partner_org_ids : [];
      if (ids.length === 0) missing.push(`${at}.partner_org_ids`);
      ids.forEach((id, i) => {
        if (typeof id === "string" && id) refs.push({ path: `${at}.partner_org_ids.${i}`, kind: "partner", id });
      });
      break;
    }
    case "create-document":
      ref("template_id", "document_template", true);
      break;
    case "move-thread":
      ref("target_inbox_id", "inbox", true);
      break;
  }
  return { refs, missing };
}

/** A mapping config and one of its targets, named by map-entity's and cart-checkout's `mapping_config`. */
async function mappingProblems(env: Env, orgId: string, at: string, ref: unknown): Promise<ErrorDetail[]> {
  const { config_id, target_id } = (ref ?? {}) as { config_id?: unknown; target_id?: unknown };
  if (typeof config_id !== "string" || isTemplate(config_id)) return [];
  const config = await getResource(env.DB, MAPPING_CONFIGS, orgId, config_id);
  const problem = (field: string, message: string): ErrorDetail[] => [
    { path: `${at}.mapping_config.${field}`, location: "json", message, code: "unknown_reference" },
  ];
  if (!config)
    return problem("config_id", `No mapping config ${JSON.stringify(config_id.slice(0, 100))} exists in this organization`);
  if (typeof target_id === "string" && !isTemplate(target_id) && !config.targets.some((t) => t.id === target_id)) {
    return problem("target_id", `Mapping config ${config_id} has no target ${JSON.stringify(target_id.slice(0, 100))}`);
  }
  return [];
}

/** Every reference problem of the document, each naming its field. */
export async function platformReferenceProblems(env: Env, orgId: string, doc: FlowDoc): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  const refs: Reference[] = [];
  for (const [i, action] of doc.actions.entries()) {
    const config = (action.config ?? {}) as Config;
    if ((action.type === "map-entity" || action.type === "cart-checkout") && config.mapping_config !== undefined) {
      problems.push(...(await mappingProblems(env, orgId, `actions.${i}.config`, config.mapping_config)));
    }
    const found = referencesOf(action.type, config, `actions.${i}.config`);
    for (const path of found.missing) {
      problems.push({ path, location: "json", message: `${action.type} needs this field`, code: "required" });
    }
    refs.push(...found.refs.filter((r) => !isTemplate(r.id)));
  }
  for (const kind of Object.keys(LOOKUPS) as ReferenceKind[]) {
    const ofKind = refs.filter((r) => r.kind === kind);
    if (ofKind.length === 0) continue;
    const existing = await LOOKUPS[kind].exists(env, orgId, [...new Set(ofKind.map((r) => r.id))]);
    for (const r of ofKind) {
      if (existing.has(r.id)) continue;
      problems.push({
        path: r.path,
        location: "json",
        message: `No ${LOOKUPS[kind].noun} ${JSON.stringify(r.id.slice(0, 100))} exists in this organization`,
        code: "unknown_reference",
      });
    }
  }
  return problems;
}
