import { durationMs } from "../../lib/duration";
import type { FlowControl } from "../../schemas/flow-control";

/**
 * A flow's flow control as the admission path reads it: `concurrency_limit` folded into `concurrency` (it is
 * the keyless short form), durations in ms, defaults filled. Pure; the schema validated the input.
 */

export interface ConcurrencyBound {
  limit: number;
  key?: string;
}

export interface FlowControlRules {
  /** At most LIMITS.MAX_CONCURRENCY_KEYS bounds; `concurrency_limit` comes first when set. */
  concurrency: ConcurrencyBound[];
  throttle?: { limit: number; period_ms: number; burst: number; key?: string };
  rate_limit?: { limit: number; period_ms: number; key?: string };
  debounce?: { period_ms: number; max_wait_ms?: number; mode: "last" | "batch"; key?: string };
  batch?: { max_size: number; timeout_ms: number; key?: string };
  priority?: { run: string };
  singleton?: { mode: "skip" | "cancel_previous"; key?: string };
}

export interface FlowControlled {
  concurrency_limit?: number;
  flow_control?: FlowControl;
}

const keyed = <T extends object>(value: T, key: string | undefined): T => (key === undefined ? value : { ...value, key });

/** The flow's rules, or null when it sets none (its starts need no admission step beyond the hot-flow limit). */
export function flowControlOf(flow: FlowControlled): FlowControlRules | null {
  const fc = flow.flow_control;
  const concurrency: ConcurrencyBound[] = [
    ...(flow.concurrency_limit ? [{ limit: flow.concurrency_limit }] : []),
    ...(fc?.concurrency ?? []).map((c) => keyed({ limit: c.limit }, c.key)),
  ];
  if (!fc && concurrency.length === 0) return null;
  const rules: FlowControlRules = { concurrency };
  if (fc?.throttle) {
    const t = fc.throttle;
    rules.throttle = keyed({ limit: t.limit, period_ms: durationMs(t.period), burst: t.burst ?? 0 }, t.key);
  }
  if (fc?.rate_limit) {
    const r = fc.rate_limit;
    rules.rate_limit = keyed({ limit: r.limit, period_ms: durationMs(r.period) }, r.key);
  }
  if (fc?.debounce) {
    const d = fc.debounce;
    const maxWait = d.max_wait ? { max_wait_ms: durationMs(d.max_wait) } : {};
    rules.debounce = keyed({ period_ms: durationMs(d.period), mode: d.mode ?? "last", ...maxWait }, d.key);
  }
  if (fc?.batch) rules.batch = keyed({ max_size: fc.batch.max_size, timeout_ms: durationMs(fc.batch.timeout) }, fc.batch.key);
  if (fc?.priority) rules.priority = { run: fc.priority.run };
  if (fc?.singleton) rules.singleton = keyed({ mode: fc.singleton.mode }, fc.singleton.key);
  return rules;
}
