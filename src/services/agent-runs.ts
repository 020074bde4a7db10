import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { isoNow } from "../lib/time";
import { getFlow } from "../store/flows";
import { getAgent, insertAgentRun, recordAgentFireError, type AgentRow } from "../store/agents";
import type { StartResult } from "./admission";
import { startExecution } from "./executions";

/**
 * How an agent starts a run: an execution of its flow through the one admission path (startExecution), with
 * the agent's config (and a manual run's input) as variables and a trigger event naming the agent, linked
 * to the agent in `agent_runs` so status and analytics count it.
 */

export interface AgentRunRequest {
  source: "schedule" | "manual" | "event";
  /** The schedule instant (ms) a scheduled run is for: it makes the start idempotent. */
  scheduledAt?: number;
  /** When the run is started (ms): the scheduler's clock for scheduled runs. */
  runAt: number;
  input?: Record<string, unknown>;
  user?: { id?: string; email?: string };
  /** An event run: what happened (`{{ trigger.event.* }}`), where from, and its id (a redelivery starts nothing new). */
  event?: { payload: Record<string, unknown>; from: string; id?: string };
}

/** What an agent run's AI steps take from its agent_config when they leave a setting unset (docs/ai.md). */
const AI_DEFAULT_KEYS = ["instructions", "connection_id", "model", "tools"] as const;

const aiDefaults = (config: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(AI_DEFAULT_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));

/** The agent's flow is gone: the run cannot start (a 409 for a manual run, a recorded error for a fire). */
const workflowMissing = (agent: AgentRow) =>
  new AppError(409, "WORKFLOW_NOT_FOUND", `Workflow ${agent.flow_id} of agent ${agent.id} no longer exists`);

/** Starts one run; throws AppError when it cannot (workflow deleted, flow disabled: admission's 409). */
export async function startAgentRun(env: Env, agent: AgentRow, req: AgentRunRequest): Promise<StartResult> {
  const flow = await getFlow(env.DB, agent.org_id, agent.flow_id);
  if (!flow) throw workflowMissing(agent);
  const scheduledAt = req.scheduledAt === undefined ? undefined : isoNow(req.scheduledAt);
  const res = await startExecution(env, {
    orgId: agent.org_id,
    flow,
    triggerEvent: {
      type: "agent",
      agent_id: agent.id,
      source: req.source,
      at: isoNow(req.runAt),
      ...(scheduledAt ? { scheduled_at: scheduledAt } : {}),
      ...(req.event ? { event: req.event.payload, event_source: req.event.from } : {}),
      ...(req.event?.id ? { event_id: req.event.id } : {}),
    },
    variables: { ...agent.agent_config, ...req.input },
    workflowContext: { agent: { id: agent.id, config: aiDefaults(agent.agent_config) } },
    user: req.user,
    // A fire repeated by an alarm retry (or an event delivered again) maps to the same execution: nothing starts twice.
    ...(scheduledAt ? { dedupeKey: `agent:${agent.id}:${scheduledAt}` } : {}),
    ...(req.event?.id ? { dedupeKey: `agent:${agent.id}:event:${req.event.from}:${req.event.id}` } : {}),
  });
  await insertAgentRun(env.DB, {
    org_id: agent.org_id,
    agent_id: agent.id,
    execution_id: res.id,
    source: req.source,
    scheduled_at: scheduledAt ?? null,
    run_at: isoNow(req.runAt),
  });
  return res;
}

/** The agent as its scheduler sees it before firing (D1 is the truth): null when deleted. */
export const agentForFire = (env: Env, orgId: string, agentId: string): Promise<AgentRow | null> =>
  getAgent(env.DB, orgId, agentId);

export interface AgentFireResult {
  started: string[];
  /** Fires that could not start a run, with why (also recorded on the agent as last_error). */
  errors: string[];
}

/**
 * Runs the scheduled instants of an active agent. A run that cannot start (flow disabled or deleted) is a
 * recorded error on the agent, not a failure of the fire; anything else (D1 down) throws, and the alarm retries.
 */
export async function fireAgent(env: Env, agent: AgentRow, instants: number[], now: number): Promise<AgentFireResult> {
  const out: AgentFireResult = { started: [], errors: [] };
  for (const instant of instants) {
    try {
      const res = await startAgentRun(env, agent, { source: "schedule", scheduledAt: instant, runAt: now });
      out.started.push(res.id);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const message = `Scheduled run for ${isoNow(instant)} not started: ${err.message}`;
      await recordAgentFireError(env.DB, agent.org_id, agent.id, message, isoNow(now));
      out.errors.push(message);
    }
  }
  return out;
}
