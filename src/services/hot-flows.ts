import { hotFlowLimit, hotFlowReason, hotFlowVerdict } from "../engine/hot-flow";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { AutomationFlow } from "../schemas/flow";
import { countFromResult, countRecentExecutionsStatement } from "../store/hot-flows";

export type HotReason = { message: string; payload: Record<string, unknown> };

/**
 * Per isolate: the last count read for a flow's limit, when, and the starts this isolate let through since.
 * While that sum is under half the limit and the read younger than HOT_COUNT_CACHE_MS, a start needs no
 * count (issue 29: the count scans the window's rows, one per execution started in it). The count already
 * lags (a short run's row is written when it finishes, within SUMMARY_DEFER_MS); near the limit, or after a
 * hot verdict, every start reads it again.
 */
const recentCounts = new Map<string, { count: number; at: number; since: number }>();

/**
 * Whether a new execution of `flow` is hot: the D1 count of the flow's executions in its window (a
 * statement, so the start path reads it in one batch with the record), and the pure rule applied to the
 * result: the reason to create it `hot` with, or undefined when it may run. Null when no count is needed:
 * bulk jobs (approved runs over a selection) are held to a flow's own `max_executions` only, not to the
 * default; a start far under the limit by this isolate's recent count (recentCounts) may run. The count is not a lock: starts racing each other can pass the limit by their concurrency.
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
  const key = `${orgId}\n${flow.id}\n${limit.count}\n${limit.window_ms}`;
  const known = recentCounts.get(key);
  if (known && now - known.at < LIMITS.HOT_COUNT_CACHE_MS && 2 * (known.count + known.since) < limit.count) {
    known.since++;
    return null;
  }
  const since = isoNow(now - limit.window_ms);
  return {
    statement: countRecentExecutionsStatement(env.DB, orgId, flow.id, since, limit.count),
    verdict: (res) => {
      const verdict = hotFlowVerdict(limit, countFromResult(res));
      recentCounts.delete(key); // re-inserted last: the Map's order is oldest first
      recentCounts.set(key, { count: verdict.count, at: now, since: verdict.hot ? 0 : 1 });
      if (recentCounts.size > LIMITS.FLOW_CACHE_MAX_ENTRIES) recentCounts.delete(recentCounts.keys().next().value as string);
      return verdict.hot ? hotFlowReason(verdict) : undefined;
    },
  };
}
