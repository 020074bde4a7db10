import type { ExecutionObjectRpc } from "../contracts/execution-object";
import type { FlowScheduleObjectRpc } from "../contracts/flow-schedule-object";
import type { Env } from "../env";

/**
 * The one place a Durable Object is reached: each client is the object's stub, typed by the object's RPC
 * contract (src/contracts/). Workers RPC types a result that holds an `unknown` payload (an execution's
 * outputs, trigger event, entity) as `never` (workerd#5200), which callers could then read as anything;
 * the contract, which the object class implements, is what they see instead. No cast: the stub is
 * assignable to its contract as it is.
 */

/** The ExecutionObject of one execution (named by the execution id). */
export function executionClient(env: Env, executionId: string): ExecutionObjectRpc {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

/** The FlowScheduleObject of a flow with schedule triggers (named by the flow id). */
export function scheduleClient(env: Env, flowId: string): FlowScheduleObjectRpc {
  return env.FLOW_SCHEDULES.get(env.FLOW_SCHEDULES.idFromName(flowId));
}

/** The FlowScheduleObject that holds an agent's schedule (named `agent:<agent_id>`). */
export function agentScheduleClient(env: Env, agentId: string): FlowScheduleObjectRpc {
  return env.FLOW_SCHEDULES.get(env.FLOW_SCHEDULES.idFromName(`agent:${agentId}`));
}
