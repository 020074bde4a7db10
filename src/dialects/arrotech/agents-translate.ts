import type { ScheduleConfig as AgentScheduleConfig } from "../../engine/schedule";
import type { AgentHealth } from "../../services/agent-analytics";
import type { AgentRow, NewAgent } from "../../services/agents";
import { defineLens } from "../lens";
import { AgentSchema } from "./agents-schemas";

/** The core agent row and health figures in Arrotech's shapes (agents-schemas.ts). */

const triggerType = (a: AgentRow) => (a.schedule_config ? ("schedule" as const) : ("manual" as const));

/** What a write of an agent says: the create body, or a template's defaults with the body over them. */
export interface AgentWrite {
  workflow_id: string;
  name?: string;
  agent_config?: Record<string, unknown> | null;
  schedule_config?: AgentScheduleConfig | null;
  template_id?: string | null;
}

/**
 * Arrotech agent ⇄ core agent (the dialect contract: src/dialects/lens.ts). The agent is the core's agent row renamed
 * (agent_id, workflow_id, a derived trigger_type), so every agent reads exactly; the service validates writes.
 */
export const agentLens = defineLens({
  title: "the Arrotech agent API",
  noun: "agent",
  schema: AgentSchema,
  toCore: (a: AgentWrite): NewAgent => ({
    workflow_id: a.workflow_id,
    name: a.name,
    // null in the document: the core's default (no configuration, no schedule).
    agent_config: a.agent_config ?? undefined,
    schedule_config: a.schedule_config ?? undefined,
    ...(a.template_id ? { template_id: a.template_id } : {}),
  }),
  fromCore: (a: AgentRow) => ({
    doc: {
      agent_id: a.id,
      workflow_id: a.flow_id,
      name: a.name,
      status: a.status,
      trigger_type: triggerType(a),
      agent_config: a.agent_config,
      schedule_config: a.schedule_config,
      template_id: a.template_id,
      created_by: a.created_by,
      created_at: a.created_at,
      updated_at: a.updated_at,
    },
    keep: undefined,
    untranslated: [],
  }),
});

export const presentAgent = (a: AgentRow) => agentLens.read(a).doc;

export function presentStatus(h: AgentHealth) {
  const a = h.agent;
  return {
    agent_id: a.id,
    workflow_id: a.flow_id,
    workflow_name: h.workflow_name,
    status: a.status,
    trigger_type: triggerType(a),
    schedule: a.schedule_config,
    execution_count: h.execution_count,
    success_count: h.success_count,
    failure_count: h.failure_count,
    success_rate: h.success_rate,
    last_error: h.last_error,
    last_error_at: h.last_error_at,
    fire_error_count: h.fire_error_count,
    last_run_at: h.last_run_at,
    next_run_at: h.next_run_at,
    // The seed document's grouping of the same figures.
    monitoring: {
      execution_count: h.execution_count,
      success_count: h.success_count,
      last_error: h.last_error,
      success_rate: h.success_rate,
    },
    performance_metrics: { average_duration_ms: h.average_duration_ms, failure_count: h.failure_count },
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}
