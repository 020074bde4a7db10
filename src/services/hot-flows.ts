import { hotFlowLimit, hotFlowReason, hotFlowVerdict } from "../engine/hot-flow";
import type { Env } from "../env";
import { isoNow } from "../lib/time";
import type { AutomationFlow } from "../schemas/flow";
import { countRecentExecutions } from "../store/hot-flows";

/**
 * Decides whether a new execution of `flow` is hot: counts the flow's executions in its window (D1) and
 * asks the pure rule. Returns the reason to create it `hot` with, or undefined when it may run.
 * Bulk jobs (approved runs over a selection) are held to a flow's own `max_executions` only, not to the
 * default. The count is not a lock: starts racing each other can pass the limit by their concurrency.
 */
export async function hotFlowCheck(
  env: Env,
  orgId: string,
  flow: Pick<AutomationFlow, "id" | "max_executions">,
  triggerEvent: Record<string, unknown>,
  now = Date.now(),
): Promise<{ message: string; payload: Record<string, unknown> } | undefined> {
  const limit = hotFlowLimit(flow.max_executions);
  if (limit.source === "default" && triggerEvent.type === "bulk") return undefined;
  const since = isoNow(now - limit.window_ms);
  const count = await countRecentExecutions(env.DB, orgId, flow.id, since, limit.count);
  const verdict = hotFlowVerdict(limit, count);
  return verdict.hot ? hotFlowReason(verdict) : undefined;
}
