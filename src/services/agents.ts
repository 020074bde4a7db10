import type { AgentScheduleStatus, ScheduleConfig as AgentScheduleConfig } from "../engine/schedule";
import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import {
  deleteAgent as deleteAgentRow,
  getAgent,
  insertAgent,
  listAgents,
  setAgentSchedule,
  setAgentStatus,
  type AgentRow,
  type AgentStatus,
} from "../store/agents";
import type { StartResult } from "./admission";
import { startAgentRun } from "./agent-runs";
import { agentScheduleClient } from "./object-clients";
import { requireFlow } from "./flows";

/**
 * Agents (Arrotech): a flow of the org run on a schedule or by hand, with its own configuration passed to each
 * run as variables. D1 (`agents`) is the truth; the schedule is a FlowScheduleObject named `agent:<id>`
 * (objects/agent-schedule.ts), whose alarm starts each run through admission (services/agent-runs.ts).
 */

export interface NewAgent {
  workflow_id: string;
  name?: string;
  agent_config?: Record<string, unknown>;
  schedule_config?: AgentScheduleConfig;
  template_id?: string;
}

export type { AgentRow };

/** The org's agents, newest first (an org has at most LIMITS.MAX_AGENTS_PER_ORG). */
export async function listOrgAgents(env: Env, orgId: string): Promise<AgentRow[]> {
  return (await listAgents(env.DB, orgId, { limit: LIMITS.MAX_AGENTS_PER_ORG, offset: 0 })).results;
}

export async function requireAgent(env: Env, orgId: string, id: string): Promise<AgentRow> {
  const agent = await getAgent(env.DB, orgId, id);
  if (!agent) throw notFound("Agent");
  return agent;
}

/**
 * Brings the agent's schedule object in line with its row: its schedule and pause state (or nothing, for an
 * agent without a schedule). Failures are logged, not thrown: the D1 write stands and the object re-reads the
 * agent before every fire (a pause or delete stops it there); the caller sees the schedule in `next_run_at`.
 */
async function syncSchedule(env: Env, agent: AgentRow): Promise<void> {
  if (!agent.schedule_config) return;
  try {
    await agentScheduleClient(env, agent.id).syncAgent({
      org_id: agent.org_id,
      agent_id: agent.id,
      config: agent.schedule_config,
      paused: agent.status === "paused",
    });
  } catch (err) {
    console.error(`schedule sync of agent ${agent.id} failed`, err instanceof Error ? err.message : String(err));
  }
}

export async function createAgent(env: Env, p: Principal, input: NewAgent): Promise<AgentRow> {
  // The workflow must be the caller's: another org's flow counts as a missing one.
  const flow = await requireFlow(env, p.orgId, input.workflow_id, "Workflow");
  const now = Date.now();
  const at = isoNow(now);
  const agent: AgentRow = {
    id: newId(),
    org_id: p.orgId,
    flow_id: flow.id,
    name: input.name ?? flow.flow_name,
    template_id: input.template_id ?? null,
    agent_config: input.agent_config ?? {},
    schedule_config: input.schedule_config ?? null,
    status: "active",
    last_error: null,
    last_error_at: null,
    fire_error_count: 0,
    created_by: p.email ?? p.actor,
    created_at: at,
    updated_at: at,
  };
  if (!(await insertAgent(env.DB, agent, LIMITS.MAX_AGENTS_PER_ORG))) {
    throw new AppError(409, "AGENT_LIMIT", `An organization may have at most ${LIMITS.MAX_AGENTS_PER_ORG} agents`);
  }
  await syncSchedule(env, agent);
  return agent;
}

/**
 * Sets (or replaces) the schedule: a new one runs from now (an interval on a grid starting now); posting the
 * same schedule again keeps its next run.
 */
export async function scheduleAgent(env: Env, orgId: string, id: string, config: AgentScheduleConfig): Promise<AgentRow> {
  const agent = await requireAgent(env, orgId, id);
  const at = isoNow();
  if (!(await setAgentSchedule(env.DB, orgId, id, config, at))) throw notFound("Agent");
  const updated: AgentRow = { ...agent, schedule_config: config, updated_at: at };
  await syncSchedule(env, updated);
  return updated;
}

/** Pauses or resumes. A paused agent never fires; a resumed one follows its catch-up policy (docs/agents.md). */
export async function setAgentRunning(env: Env, orgId: string, id: string, status: AgentStatus): Promise<AgentRow> {
  const agent = await requireAgent(env, orgId, id);
  const at = isoNow();
  if (!(await setAgentStatus(env.DB, orgId, id, status, at))) throw notFound("Agent");
  const updated: AgentRow = { ...agent, status, updated_at: at };
  await syncSchedule(env, updated);
  return updated;
}

/** Deletes the agent and stops its schedule; the executions it started stay. */
export async function removeAgent(env: Env, orgId: string, id: string): Promise<void> {
  if (!(await deleteAgentRow(env.DB, orgId, id))) throw notFound("Agent");
  try {
    await agentScheduleClient(env, id).clear();
  } catch (err) {
    // The object re-reads D1 before it fires: a deleted agent clears itself at its next alarm.
    console.error(`schedule clear of agent ${id} failed`, err instanceof Error ? err.message : String(err));
  }
}

/** A manual run, paused or not: 409 when the workflow is disabled or gone. */
export async function executeAgent(
  env: Env,
  p: Principal,
  id: string,
  input: Record<string, unknown> | undefined,
): Promise<StartResult & { agent: AgentRow }> {
  const agent = await requireAgent(env, p.orgId, id);
  const res = await startAgentRun(env, agent, {
    source: "manual",
    runAt: Date.now(),
    input,
    user: { id: p.userId, email: p.email },
  });
  return { ...res, agent };
}

export interface AgentEventInput {
  payload: Record<string, unknown>;
  /** Where it comes from (`api`, `slack`, a caller's name): part of the dedupe key and `{{ trigger.event_source }}`. */
  from: string;
  /** The event's id: a delivery repeated with it starts nothing new. */
  id?: string;
}

/** An event for an agent (`POST /v1/agents/{id}/events`, Slack): one run; 409 when paused or its workflow cannot run. */
export async function agentEvent(
  env: Env,
  agent: AgentRow,
  event: AgentEventInput,
  user?: { id?: string; email?: string },
): Promise<StartResult> {
  if (agent.status === "paused") throw new AppError(409, "AGENT_PAUSED", `Agent ${agent.id} is paused: it takes no events`);
  return startAgentRun(env, agent, { source: "event", runAt: Date.now(), event, user });
}

/** The schedule object's view (next fire on its clock); null for an agent without a schedule. */
export async function agentScheduleState(env: Env, agent: AgentRow): Promise<AgentScheduleStatus | null> {
  if (!agent.schedule_config) return null;
  return agentScheduleClient(env, agent.id).agentStatus();
}
