import { scheduleTriggersOf } from "../engine/cron";
import type { Env } from "../env";
import type { AutomationFlow } from "../schemas/flow";
import { scheduleClient } from "./object-clients";

type SchedulableFlow = Pick<AutomationFlow, "id" | "org_id" | "enabled" | "triggers">;

/**
 * Brings the flow's schedule object in line with the flow just written (created, replaced, enabled or
 * disabled): re-armed from now, or cleared when disabled or without schedule triggers. Flows that have
 * no schedule trigger now and had none before (`before`) are skipped, so other flows cost no object call.
 * A failure is logged, not thrown: the D1 write stands, the object re-checks D1 before it fires, and the
 * per-minute reconciliation repairs the schedule.
 */
export async function syncFlowSchedule(
  env: Env,
  flow: SchedulableFlow,
  before?: Pick<AutomationFlow, "triggers"> | null,
): Promise<void> {
  const triggers = scheduleTriggersOf(flow);
  if (triggers.length === 0 && !(before && scheduleTriggersOf(before).length > 0)) return;
  try {
    await scheduleClient(env, flow.id).sync(flow.org_id, flow.id, triggers, flow.enabled);
  } catch (err) {
    console.error(`schedule sync of flow ${flow.id} failed`, err instanceof Error ? err.message : String(err));
  }
}

/** Clears a deleted flow's schedule (same failure policy as syncFlowSchedule). */
export async function clearFlowSchedule(env: Env, flowId: string): Promise<void> {
  try {
    await scheduleClient(env, flowId).clear();
  } catch (err) {
    console.error(`schedule clear of flow ${flowId} failed`, err instanceof Error ? err.message : String(err));
  }
}
