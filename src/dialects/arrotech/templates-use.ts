import type { Env } from "../../env";
import { notFound, type ErrorDetail } from "../../lib/errors";
import type { Principal } from "../../lib/principal";
import { listConnectionSummaries } from "../../services/connections";
import { createFlow } from "../../services/flows";
import { splitToolName } from "../../services/tool-names";
import { invalidBody } from "../lens";
import type { WorkflowTemplate } from "./templates";
import { NOUN, type WorkflowStatus } from "./workflows-schemas";
import { presentWorkflow } from "./workflows-present";
import { workflowLens, workflowToFlowInput, type WorkflowModel, type WorkflowStep } from "./workflows-translate";

/**
 * Using a template: its setup variables are put in, each provider step is bound to one of the caller's connections
 * of that platform (one the body names, else the oldest active one), and the workflow is created. A template whose
 * connections are not all there is created as a draft and the answer names what is missing.
 */

/** The platforms a template's provider steps need, in order of first use (derived: it cannot drift). */
export function requiredConnections(t: Pick<WorkflowTemplate, "steps">): string[] {
  const platforms = t.steps.flatMap((s) => splitToolName(s.tool)?.platform ?? []);
  return [...new Set(platforms)];
}

const PLACEHOLDER = /\{\{\s*variables\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*variables\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** Puts `values` in for `{{ variables.<name> }}` in every string; a string that is one placeholder takes the value's type. */
export function substitute(value: unknown, values: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole && whole[1] in values) return values[whole[1]];
    return value.replace(PLACEHOLDER, (m, name: string) => (name in values ? String(values[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  }
  return value;
}

/** The template as a workflow model, its setup variables put in where `values` has them. */
export function templateModel(
  t: WorkflowTemplate,
  values: Record<string, unknown>,
  opts: { name?: string; status?: WorkflowStatus } = {},
): WorkflowModel {
  // Variables left without a value stay the run's input: declared on the workflow, given by execute.
  const open = t.variables.filter((v) => !(v.name in values)).map((v) => [v.name, null] as const);
  return {
    name: opts.name ?? t.name,
    description: t.description,
    status: opts.status ?? "active",
    trigger_type: t.trigger_type,
    trigger_config: substitute(t.trigger_config, values) as Record<string, unknown>,
    variables: Object.fromEntries(open),
    steps: substitute(t.steps, values) as WorkflowStep[],
    workflow_metadata: { template_id: t.id, category: t.category },
  };
}

/** The template's flow document with its defaults put in (what GET shows and what CI validates). */
export function templateFlow(t: WorkflowTemplate) {
  return workflowToFlowInput(templateModel(t, defaultValues(t)));
}

export function defaultValues(t: WorkflowTemplate): Record<string, unknown> {
  return Object.fromEntries(t.variables.flatMap((v) => (v.default !== undefined ? [[v.name, v.default]] : [])));
}

export interface UseBody {
  name?: string;
  status?: WorkflowStatus;
  variables?: Record<string, unknown>;
  connections?: Record<string, string>;
}

/** The setup values: the body's over the defaults; 400 for unknown names, wrong types and required ones missing. */
function setupValues(t: WorkflowTemplate, given: Record<string, unknown>): Record<string, unknown> {
  const declared = new Map(t.variables.map((v) => [v.name, v]));
  const problems: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(given)) {
    const v = declared.get(name);
    if (!v) problems.push({ path: `variables.${name}`, location: "json", message: `The template has no variable "${name}"` });
    else if (typeof value !== v.type)
      problems.push({ path: `variables.${name}`, location: "json", message: `must be a ${v.type}` });
  }
  const values = { ...defaultValues(t), ...given };
  for (const v of t.variables) {
    if (v.required && values[v.name] === undefined) {
      problems.push({ path: `variables.${v.name}`, location: "json", message: `Required: ${v.description}` });
    }
  }
  if (problems.length > 0) throw invalidBody(problems);
  return values;
}

/** platform → connection id for each required platform the caller has; the body's choices are checked first. */
async function bindConnections(env: Env, orgId: string, required: string[], chosen: Record<string, string>) {
  const owned = await listConnectionSummaries(env, orgId);
  const problems: ErrorDetail[] = [];
  const bound: Record<string, string> = {};
  for (const [platform, id] of Object.entries(chosen)) {
    if (!required.includes(platform)) {
      problems.push({
        path: `connections.${platform}`,
        location: "json",
        message: `This template uses no ${platform} connection`,
      });
      continue;
    }
    const conn = owned.find((c) => c.id === id);
    // Another organization's connection counts as a missing one.
    if (!conn) throw notFound(`Connection ${id.slice(0, 100)}`);
    if (conn.platform !== platform) {
      problems.push({
        path: `connections.${platform}`,
        location: "json",
        message: `Connection ${id} is a ${conn.platform} connection`,
      });
    } else bound[platform] = id;
  }
  if (problems.length > 0) throw invalidBody(problems);
  for (const platform of required) {
    if (bound[platform]) continue;
    const pick = owned.find((c) => c.platform === platform && c.status === "active");
    if (pick) bound[platform] = pick.id;
  }
  return { bound, missing: required.filter((p) => !bound[p]) };
}

/** Creates the workflow of a template in the caller's organization. */
export async function useTemplate(env: Env, p: Principal, t: WorkflowTemplate, body: UseBody) {
  const values = setupValues(t, body.variables ?? {});
  const required = requiredConnections(t);
  const { bound, missing } = await bindConnections(env, p.orgId, required, body.connections ?? {});
  const status: WorkflowStatus = missing.length > 0 ? "draft" : (body.status ?? "active");
  const model = templateModel(t, values, { name: body.name, status });
  model.steps = model.steps.map((s) => {
    const platform = splitToolName(s.tool)?.platform;
    return platform && bound[platform] ? { ...s, connection_id: bound[platform] } : s;
  });
  const flow = await createFlow(env, p, workflowLens.write(model), NOUN);
  return { workflow: presentWorkflow(flow), connections: bound, missing_connections: missing };
}
