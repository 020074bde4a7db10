import type { Env } from "../env";

/**
 * The alarm clock of a flow's time-driven flow control (objects/flow-control-object.ts, one per flow):
 * debounce and batch groups due, throttled starts whose time comes. Arming keeps the earliest time.
 */
export async function armFlowControl(env: Env, orgId: string, flowId: string, at: number): Promise<void> {
  await env.FLOW_CONTROL.get(env.FLOW_CONTROL.idFromName(flowId)).arm(orgId, flowId, at);
}
