import type { Env } from "../env";
import { validateFilterConfig } from "../engine/conditions";
import { validateTemplates } from "../engine/templates";
import { AppError, type ErrorDetail } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { outboundRefusal } from "../lib/ssrf";
import { isTemplate } from "../schemas/flow-common";
import type { FlowDoc } from "../store/flows";
import { planFlow } from "../engine/plan/plan";
import { platformReferenceProblems } from "./platform-references";

/**
 * What the zod schema cannot check about a flow document, checked when the flow is written (by the API or a
 * dialect) so a mistake is a 400 now rather than a failed run later. `validateFlowDocument` is the one entry
 * point every flow write goes through: a new check is added to `flowDocumentProblems`.
 */

/** Action types whose `config.url` the engine calls. */
const OUTBOUND_URL_ACTIONS = new Set(["call_webhook", "trigger-webhook", "custom-action"]);

/** Literal outbound URLs refused by the SSRF policy (lib/ssrf.ts); templated ones are checked when sent. */
function outboundUrlProblems(env: Env, doc: FlowDoc): ErrorDetail[] {
  const targets: { path: string; url: unknown }[] = doc.actions
    .map((action, i) => ({ action, i }))
    .filter(({ action }) => OUTBOUND_URL_ACTIONS.has(action.type))
    .map(({ action, i }) => ({ path: `actions.${i}.config.url`, url: (action.config as { url?: unknown } | undefined)?.url }));
  targets.push({ path: "error_handling.notify_url", url: doc.error_handling?.notify_url });
  const problems: ErrorDetail[] = [];
  for (const { path, url } of targets) {
    if (typeof url !== "string" || isTemplate(url)) continue;
    const reason = outboundRefusal(env, url);
    if (reason)
      problems.push({ path, location: "json", message: `not an allowed outbound URL: ${reason}`, code: "outbound_refused" });
  }
  return problems;
}

/** A webhook trigger needs a signing secret (after the write's secrets are resolved) unless it allows unsigned calls. */
function webhookSecretProblems(doc: FlowDoc): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  doc.triggers.forEach((t, i) => {
    if (t.type === "webhook" && !t.configuration.secret_configured && !t.configuration.allow_unsigned) {
      problems.push({
        path: `triggers.${i}.configuration.secret`,
        location: "json",
        message: "A webhook trigger needs a secret unless allow_unsigned is true",
      });
    }
  });
  return problems;
}

/** An entity_operation filter that can never match is a 400 now, not a silent no-op at run time. */
function filterConfigProblems(doc: FlowDoc): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  doc.triggers.forEach((t, i) => {
    if (t.type !== "entity_operation" || t.configuration.filter_config === undefined) return;
    for (const issue of validateFilterConfig(t.configuration.filter_config)) {
      problems.push({
        path: `triggers.${i}.configuration.filter_config${issue.path ? `.${issue.path}` : ""}`,
        location: "json",
        message: issue.message,
        code: "invalid_filter",
      });
    }
  });
  return problems;
}

/** Templates are parsed (not rendered) at save time. */
function templateProblems(doc: FlowDoc): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  doc.actions.forEach((action, i) => {
    for (const issue of validateTemplates(action.config)) {
      const where = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.col})` : "";
      problems.push({
        path: `actions.${i}.config${issue.path ? `.${issue.path}` : ""}`,
        location: "json",
        message: `Invalid template${where}: ${issue.message}`,
        code: "invalid_template",
      });
    }
  });
  for (const issue of validateTemplates(doc.error_handling?.notify_url)) {
    problems.push({
      path: "error_handling.notify_url",
      location: "json",
      message: `Invalid template: ${issue.message}`,
      code: "invalid_template",
    });
  }
  return problems;
}

/** The AI steps' name of Workers AI as a connection (llm/providers.ts WORKERS_AI; services/ does not import llm/). */
const WORKERS_AI = "workers-ai";
const AI_ACTIONS = new Set(["ai_generate", "ai_agent"]);

/**
 * An AI step naming Workers AI on a Worker without the `AI` binding would fail every run with BAD_CONFIG: a 400 now.
 * (A templated or omitted connection_id is resolved at run time.)
 */
function workersAiProblems(env: Env, doc: FlowDoc): ErrorDetail[] {
  if (env.AI) return [];
  return doc.actions.flatMap((action, i) =>
    AI_ACTIONS.has(action.type) && (action.config as { connection_id?: unknown } | undefined)?.connection_id === WORKERS_AI
      ? [
          {
            path: `actions.${i}.config.connection_id`,
            location: "json",
            message:
              'Workers AI needs the Worker\'s AI binding (wrangler.toml [ai] binding = "AI"), and this Worker has none: name an openai, anthropic or ollama connection instead',
            code: "workers_ai_unbound",
          },
        ]
      : [],
  );
}

/** What the limits planner says no run can stay within (engine/plan/plan.ts); its warnings do not refuse. */
function planProblems(doc: FlowDoc): ErrorDetail[] {
  return planFlow(doc).errors.map((e) => ({
    ...(e.path ? { path: e.path } : {}),
    location: "json",
    message: e.message,
    code: "over_limits",
  }));
}

/** Every problem of the document, each naming its field. */
export function flowDocumentProblems(env: Env, doc: FlowDoc): ErrorDetail[] {
  return [
    ...webhookSecretProblems(doc),
    ...filterConfigProblems(doc),
    ...templateProblems(doc),
    ...outboundUrlProblems(env, doc),
    ...workersAiProblems(env, doc),
    ...planProblems(doc),
  ];
}

/** 400 naming every problem (FLOW_OVER_LIMITS when the planner's are the only ones), or 413 when the stored document would be too large. */
export function validateFlowDocument(env: Env, doc: FlowDoc): void {
  const problems = flowDocumentProblems(env, doc);
  if (problems.length > 0 && problems.every((p) => p.code === "over_limits")) {
    const reasons = problems.map((p) => p.message).join("; ");
    throw new AppError(400, "FLOW_OVER_LIMITS", `The flow can never run within the engine's limits: ${reasons}`, problems);
  }
  if (problems.length > 0) throw new AppError(400, "VALIDATION_ERROR", "Invalid request body", problems);
  const bytes = new TextEncoder().encode(JSON.stringify(doc)).length;
  if (bytes > LIMITS.MAX_FLOW_BYTES) {
    throw new AppError(413, "FLOW_TOO_LARGE", `The flow document is ${bytes} bytes; the limit is ${LIMITS.MAX_FLOW_BYTES} bytes`);
  }
}

/**
 * 400 naming every action field that names a platform resource (webhook target, template, inbox, partner,
 * mapping config) the organization does not have; async, as it reads D1 (services/platform-references.ts).
 */
export async function validateFlowReferences(env: Env, orgId: string, doc: FlowDoc): Promise<void> {
  const problems = await platformReferenceProblems(env, orgId, doc);
  if (problems.length > 0) throw new AppError(400, "VALIDATION_ERROR", "Invalid request body", problems);
}
