import type { AgentScheduleInput, AgentScheduleStatus } from "../engine/schedule";
import type { ScheduleTriggerSpec } from "../engine/cron";

/**
 * What a FlowScheduleObject answers over RPC: the class (objects/flow-schedule-object.ts) implements this
 * interface, env.ts types the FLOW_SCHEDULES namespace with it, and callers reach it through
 * services/object-clients.ts. Types only. One object per flow with schedule triggers; an object named
 * `agent:<agent_id>` holds an agent's schedule as its one trigger (the agent methods): one scheduler.
 */

export interface ScheduleTriggerStatus extends ScheduleTriggerSpec {
  /** Next fire on the object's clock (ISO), null when the expression never fires again. */
  next_fire_at: string | null;
  last_fired_at: string | null;
  last_event_id: string | null;
}

export interface ScheduleStatus {
  org_id: string | null;
  flow_id: string | null;
  triggers: ScheduleTriggerStatus[];
  /** The armed alarm in real time (ms), or null. */
  alarm_at: number | null;
}

/** The flow's schedule triggers as D1 has them, for the reconciliation to compare with the stored set. */
export interface ExpectedSchedule {
  org_id: string;
  flow_id: string;
  triggers: ScheduleTriggerSpec[];
}

export interface FlowScheduleObjectRpc {
  /** Replaces the flow's schedule triggers; disabled or without schedule triggers, clears everything. */
  sync(orgId: string, flowId: string, triggers: ScheduleTriggerSpec[], enabled: boolean): Promise<ScheduleStatus>;
  /** Clears the schedule (the flow or agent was deleted or disabled). */
  clear(): Promise<void>;
  status(): Promise<ScheduleStatus>;
  /** Reconciliation against D1's trigger set (`expected`), or a lost alarm; whether it fixed something. */
  ensureArmed(expected?: ExpectedSchedule): Promise<boolean>;
  /** An agent's object: stores its schedule, pause flag and catch-up policy. */
  syncAgent(input: AgentScheduleInput): Promise<AgentScheduleStatus>;
  /** Reconciliation of an agent's object against its D1 row; whether it fixed something. */
  ensureAgentArmed(input: AgentScheduleInput): Promise<boolean>;
  agentStatus(): Promise<AgentScheduleStatus>;
}
