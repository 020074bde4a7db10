import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AgentScheduleStatus } from "../../../src/engine/schedule";
import type { AgentAlarmOutcome, FlowScheduleObject } from "../../../src/objects/flow-schedule-object";
import { call } from "../../helpers";
import { SINK, createFlow } from "../../support/engine";

export const at = (iso: string) => Date.parse(iso);
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** The agent's schedule object (a FlowScheduleObject named `agent:<id>`). */
export const agentStub = (agentId: string) =>
  env.FLOW_SCHEDULES.get(env.FLOW_SCHEDULES.idFromName(`agent:${agentId}`)) as DurableObjectStub<FlowScheduleObject>;

export async function setAgentClock(agentId: string, now: number): Promise<void> {
  await runInDurableObject(agentStub(agentId), (o: FlowScheduleObject) => {
    o.clock = () => now;
  });
}

/** Moves the agent object's clock to `now` and fires its alarm on purpose; null when no alarm was armed. */
export async function fireAgentAt(agentId: string, now: number): Promise<AgentAlarmOutcome | null> {
  await setAgentClock(agentId, now);
  const ran = await runDurableObjectAlarm(agentStub(agentId));
  if (!ran) return null;
  return runInDurableObject(agentStub(agentId), (o: FlowScheduleObject) => o.lastAgentAlarm);
}

/** Arms the object's alarm for now whatever its state, then fires it: "what if it woke anyway". */
export async function forceAlarm(agentId: string, now: number): Promise<AgentAlarmOutcome | null> {
  await runInDurableObject(agentStub(agentId), async (o: FlowScheduleObject, ctx) => {
    o.clock = () => now;
    o.lastAgentAlarm = null;
    await ctx.storage.setAlarm(Date.now());
  });
  expect(await runDurableObjectAlarm(agentStub(agentId))).toBe(true);
  return runInDurableObject(agentStub(agentId), (o: FlowScheduleObject) => o.lastAgentAlarm);
}

export async function agentSchedule(agentId: string): Promise<AgentScheduleStatus> {
  return (await agentStub(agentId).agentStatus()) as AgentScheduleStatus;
}

/**
 * A flow whose one action posts to the sink at `{{ variables.path }}` (default `ok-<tag>`) with the run's
 * variables and trigger: a path of `status/400` makes the run fail at once.
 */
export async function agentFlow(tag: string, org = "org-a", extra: Record<string, unknown> = {}): Promise<any> {
  return createFlow(
    {
      flow_name: `agent flow ${tag}`,
      actions: [
        {
          id: "hook",
          type: "call_webhook",
          config: {
            url: `${SINK}/{{ variables.path | default: "ok-${tag}" }}`,
            body: {
              instructions: "{{ variables.instructions }}",
              topic: "{{ variables.topic }}",
              agent: "{{ trigger.agent_id }}",
            },
          },
        },
      ],
      ...extra,
    },
    org,
  );
}

export async function createAgent(body: Record<string, unknown>, org = "org-a"): Promise<any> {
  const res = await call("POST", "/v1/agents", { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Creates an agent without a schedule, sets its object's clock to `now`, then schedules it: its grid starts at `now`. */
export async function scheduledAgent(
  flowId: string,
  scheduleConfig: Record<string, unknown>,
  now: number,
  extra: Record<string, unknown> = {},
) {
  const agent = await createAgent({ workflow_id: flowId, ...extra });
  await setAgentClock(agent.agent_id, now);
  const res = await call("POST", `/v1/agents/${agent.agent_id}/schedule`, { body: { schedule_config: scheduleConfig } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function agentStatus(agentId: string, org = "org-a"): Promise<any> {
  const res = await call("GET", `/v1/agents/${agentId}/status`, { org });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The agent's runs as `agent_runs` records them, oldest first. */
export async function agentRuns(
  agentId: string,
): Promise<{ execution_id: string; source: string; scheduled_at: string | null; run_at: string }[]> {
  const rows = await env.DB.prepare(
    "SELECT execution_id, source, scheduled_at, run_at FROM agent_runs WHERE agent_id = ? ORDER BY run_at, scheduled_at",
  )
    .bind(agentId)
    .all<{ execution_id: string; source: string; scheduled_at: string | null; run_at: string }>();
  return rows.results;
}

/** The D1 index rows of executions. */
export async function executionRows(
  ids: string[],
): Promise<{ id: string; status: string; trigger_type: string | null; started_at: string | null; finished_at: string | null }[]> {
  const rows = await env.DB.prepare(
    "SELECT id, status, trigger_type, started_at, finished_at FROM executions WHERE id IN (SELECT value FROM json_each(?)) ORDER BY created_at",
  )
    .bind(JSON.stringify(ids))
    .all<{ id: string; status: string; trigger_type: string | null; started_at: string | null; finished_at: string | null }>();
  return rows.results;
}
