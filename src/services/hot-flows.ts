import { hotFlowLimit, hotFlowReason, hotFlowVerdict } from "../engine/hot-flow";
import type { Env } from "../env";
import { isoNow } from "../lib/time";
import type { AutomationFlow } from "../schemas/flow";
import { countFromResult, countRecentExecutionsStatement } from "../store/hot-flows";

export type HotReason = { message: string; payload: Record<string, unknown> };

/**
 * Whether a new execution of `flow` is hot: the D1 count of the flow's executions in its window (a
 * statement, so the start path reads it in one batch with the record), and the pure rule applied to the
 * result: the reason to create it `hot` with, or undefined when it may run. Null when no count is needed:
 * bulk jobs (approved runs over a selection) are held to a flow's own `max_executions` only, not to the
 * default. The count is not a lock: starts racing each other can pass the limit by their concurrency.
 */
export function hotFlowQuery(
  env: Env,
  orgId: string,
  flow: Pick<AutomationFlow, "id" | "max_executions">,
  triggerEvent: Record<string, unknown>,
  now = Date.now(),
): { statement: D1PreparedStatement; verdict: (res: D1Result) => HotReason | undefined } | null {
  const limit = hotFlowLimit(flow.max_executions);
  if (limit.source === "default" && triggerEvent.type === "bulk") return null;
  const since = isoNow(now - limit.window_ms);
  return {
    statement: countRecentExecutionsStatement(env.DB, orgId, flow.id, since, limit.count),
    verdict: (res) => {
      const verdict = hotFlowVerdict(limit, countFromResult(res));
      return verdict.hot ? hotFlowReason(verdict) : undefined;
    },
  };
}
