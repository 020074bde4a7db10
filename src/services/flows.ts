import type { Env } from "../env";
import { conflict, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import type { AutomationFlow, ParsedFlowInput } from "../schemas/flow";
import { listFlowSecrets } from "../store/flow-secrets";
import { listWebhookTokens } from "../store/webhook-tokens";
import {
  deleteFlow,
  getFlow,
  getFlowsByIds,
  insertFlow,
  replaceFlow,
  searchFlows,
  setFlowEnabled,
  type FlowSearch,
} from "../store/flows";
import { searchWorkflowIds, type WorkflowSearch } from "../store/workflows";
import { prepareFlowWrite } from "./flow-write";
import { clearFlowSchedule, syncFlowSchedule } from "./schedules";

/**
 * Flow writes, one path for the API and the dialects: prepare (ids, secrets and their rotation, validation),
 * store, then bring the flow's schedule in line. `noun` names the resource in a 404 ("Flow" in the engine's
 * API, "Automation" in a dialect's).
 */

/** Who is recorded in disable_details: the user's email when the credential has one. */
export const blameOf = (p: Principal): string => p.email ?? p.actor;

export async function requireFlow(env: Env, orgId: string, id: string, noun = "Flow"): Promise<AutomationFlow> {
  const flow = await getFlow(env.DB, orgId, id);
  if (!flow) throw notFound(noun);
  return flow;
}

/** A page of the org's flows matching `q`, newest first. */
export async function listFlows(
  env: Env,
  orgId: string,
  q: FlowSearch,
  limit: number,
  offset: number,
): Promise<{ total: number; results: AutomationFlow[] }> {
  return searchFlows(env.DB, orgId, q, limit, offset);
}

/** A page of the org's flows as the Arrotech workflow list filters them (status, trigger type, words), newest first. */
export async function listWorkflowFlows(
  env: Env,
  orgId: string,
  q: WorkflowSearch,
  limit: number,
  offset: number,
): Promise<{ total: number; results: AutomationFlow[] }> {
  const found = await searchWorkflowIds(env.DB, orgId, q, limit, offset);
  return { total: found.total, results: await getFlowsByIds(env.DB, orgId, found.ids) };
}

export async function createFlow(env: Env, p: Principal, input: ParsedFlowInput, noun = "Flow"): Promise<AutomationFlow> {
  const id = newId();
  const write = await prepareFlowWrite({
    env,
    orgId: p.orgId,
    flowId: id,
    input,
    existing: null,
    existingSecrets: [],
    at: isoNow(),
    actor: p.actor,
    blame: blameOf(p),
  });
  await insertFlow(env.DB, write);
  const created = await requireFlow(env, p.orgId, id, noun);
  await syncFlowSchedule(env, created);
  return created;
}

/** Replaces the flow `existing` was read as; 409 when it changed or was deleted in between. */
export async function updateFlow(
  env: Env,
  p: Principal,
  existing: AutomationFlow,
  input: ParsedFlowInput,
  noun = "Flow",
): Promise<AutomationFlow> {
  const write = await prepareFlowWrite({
    env,
    orgId: p.orgId,
    flowId: existing.id,
    input,
    existing,
    existingSecrets: await listFlowSecrets(env.DB, p.orgId, existing.id),
    existingTokens: await listWebhookTokens(env.DB, p.orgId, existing.id),
    at: isoNow(),
    actor: p.actor,
    blame: blameOf(p),
  });
  if ((await replaceFlow(env.DB, write, existing.version)) === "conflict") {
    throw conflict(`The ${noun.toLowerCase()} was changed or deleted by another request; fetch it again and retry`);
  }
  const saved = await requireFlow(env, p.orgId, existing.id, noun);
  await syncFlowSchedule(env, saved, existing);
  return saved;
}

export async function removeFlow(env: Env, orgId: string, id: string, noun = "Flow"): Promise<void> {
  if (!(await deleteFlow(env.DB, orgId, id))) throw notFound(noun);
  await clearFlowSchedule(env, id);
}

/** Enables or disables; disabling an already disabled flow keeps the original reason (e.g. the circuit breaker's). */
export async function setFlowEnabledBy(
  env: Env,
  p: Principal,
  id: string,
  enabled: boolean,
  noun = "Flow",
): Promise<AutomationFlow> {
  const at = isoNow();
  const details = enabled ? null : { disabled_at: at, disabled_by: "user" as const, blame: blameOf(p) };
  const current = await requireFlow(env, p.orgId, id, noun);
  const keep = !enabled && !current.enabled ? (current.disable_details ?? details) : details;
  if (!(await setFlowEnabled(env.DB, p.orgId, id, enabled, keep, at, p.actor))) throw notFound(noun);
  const flow = await requireFlow(env, p.orgId, id, noun);
  await syncFlowSchedule(env, flow);
  return flow;
}
