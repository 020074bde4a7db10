import { LIMITS } from "../lib/limits";

/**
 * epilot's hot-flow limit (AutomationFlow.max_executions): at most `count` executions of a flow start per
 * `window` (ISO-8601 duration); one more is created with status `hot` and not run. A flow without its own
 * limit gets the default (LIMITS.DEFAULT_HOT_FLOW_*). Pure: the caller counts, this decides.
 */

export interface HotFlowLimit {
  count: number;
  window: string;
  window_ms: number;
  source: "flow" | "default";
}

export interface HotFlowVerdict {
  hot: boolean;
  /** Executions already started in the window (before this one). */
  count: number;
  limit: HotFlowLimit;
}

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** An ISO-8601 duration in ms (a year counts 365 days, a month 30), or null when it is not one. */
export function isoDurationMs(value: string): number | null {
  const m = DURATION.exec(value.trim());
  if (!m) return null;
  return m.slice(1).reduce((ms, part, i) => ms + (part ? Number(part) * UNIT_MS[i] : 0), 0);
}

/** The limit that applies to a flow: its own `max_executions`, each key that is missing or invalid taken from the default. */
export function hotFlowLimit(maxExecutions: { count?: number; window?: string } | undefined): HotFlowLimit {
  const own = maxExecutions?.count;
  const count = own !== undefined && own >= 1 ? Math.floor(own) : undefined;
  const ownWindowMs = maxExecutions?.window ? isoDurationMs(maxExecutions.window) : null;
  const window = ownWindowMs !== null && ownWindowMs > 0 ? maxExecutions!.window! : undefined;
  return {
    count: count ?? LIMITS.DEFAULT_HOT_FLOW_MAX_EXECUTIONS,
    window: window ?? LIMITS.DEFAULT_HOT_FLOW_WINDOW,
    window_ms: Math.min(window ? ownWindowMs! : isoDurationMs(LIMITS.DEFAULT_HOT_FLOW_WINDOW)!, LIMITS.MAX_HOT_FLOW_WINDOW_MS),
    source: count !== undefined || window !== undefined ? "flow" : "default",
  };
}

/** Hot when `count` executions already started in the window: this one would exceed the limit. */
export function hotFlowVerdict(limit: HotFlowLimit, count: number): HotFlowVerdict {
  return { hot: count >= limit.count, count, limit };
}

/** The reason a hot execution's actions carry (shown on getExecution). */
export function hotFlowReason(v: HotFlowVerdict): { message: string; payload: Record<string, unknown> } {
  return {
    message: `Not run: the flow is hot (${v.count} executions in the last ${v.limit.window}; the limit is ${v.limit.count})`,
    payload: { code: "HOT_FLOW", count: v.count, limit: v.limit.count, window: v.limit.window, source: v.limit.source },
  };
}
