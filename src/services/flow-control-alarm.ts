import type { Env } from "../env";
import { flowControlClient } from "./object-clients";

/**
 * The alarm clock of a flow's time-driven flow control (objects/flow-control-object.ts, one per flow):
 * debounce and batch groups due, throttled starts whose time comes. Arming keeps the earliest time.
 */
export async function armFlowControl(env: Env, orgId: string, flowId: string, at: number): Promise<void> {
  await flowControlClient(env, flowId).arm(orgId, flowId, at);
}
