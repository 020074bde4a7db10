import { LIMITS } from "../../lib/limits";
import { renderValue } from "../templates";
import type { FlowControlRules } from "./config";
import { rateLimitGcra, throttleGcra, type Gcra } from "./rates";

/**
 * What flow control asks of one start, its keys rendered: whether its event is collected (debounce, batch)
 * or the start goes through the admission queue (concurrency, throttle, rate_limit, singleton, ordered by
 * priority). Pure: services/admission.ts carries it out in D1.
 */

/** What a key or priority template sees: the trigger (as `trigger_event` and `trigger`), the entity (also `record`), variables. */
export interface StartContext {
  trigger_event: Record<string, unknown>;
  entity: Record<string, unknown> | null;
  variables?: Record<string, unknown>;
}

function render(template: string, ctx: StartContext, now: number): unknown {
  const scope = {
    trigger_event: ctx.trigger_event,
    trigger: ctx.trigger_event,
    entity: ctx.entity,
    variables: ctx.variables ?? {},
    now,
  };
  try {
    return renderValue(template, scope).value;
  } catch {
    // A template that cannot render (the schema checked its syntax; a limit can still trip) gives the empty key.
    return "";
  }
}

/**
 * A rendered key: "" for no template (one key for the whole flow) or a value that renders empty, text
 * otherwise (objects as JSON), cut at LIMITS.MAX_FLOW_CONTROL_KEY_LENGTH (two long keys that share the
 * prefix share the bound: stricter, never looser).
 */
export function renderKey(template: string | undefined, ctx: StartContext, now: number): string {
  if (template === undefined) return "";
  const value = render(template, ctx, now);
  const text = typeof value === "string" ? value.trim() : value === null || value === undefined ? "" : JSON.stringify(value);
  return text.slice(0, LIMITS.MAX_FLOW_CONTROL_KEY_LENGTH);
}

/** A flow's correlation_key for one start: undefined without a template, or when it renders empty. */
export function renderCorrelationKey(template: string | undefined, ctx: StartContext, now: number): string | undefined {
  const key = renderKey(template, ctx, now);
  return key === "" ? undefined : key;
}

/** A start's priority: the template's integer, clamped to ±LIMITS.MAX_PRIORITY; 0 without one or when it is not a number. */
export function renderPriority(template: string | undefined, ctx: StartContext, now: number): number {
  if (template === undefined) return 0;
  const value = render(template, ctx, now);
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || (typeof value === "string" && value.trim() === "")) return 0;
  return Math.max(-LIMITS.MAX_PRIORITY, Math.min(LIMITS.MAX_PRIORITY, Math.trunc(n)));
}

export interface CollectPlan {
  kind: "debounce" | "batch";
  key: string;
  /** Debounce: the quiet period; batch: the timeout (from the group's first event). */
  period_ms: number;
  /** Debounce: the longest wait from the group's first event. */
  max_wait_ms?: number;
  /** Batch: the size that flushes at once (debounce in `batch` mode: LIMITS.MAX_BATCH_SIZE). */
  max_size: number;
  /** Whether the execution gets every event (`trigger_events`) or only the last. */
  keep: "all" | "last";
}

export interface QueuePlan {
  /** The concurrency bounds with their rendered keys, in the flow's order. */
  concurrency: { key: string; limit: number }[];
  singleton?: { key: string; mode: "skip" | "cancel_previous" };
  throttle?: { key: string; gcra: Gcra };
  rate_limit?: { key: string; gcra: Gcra };
  priority: number;
}

export interface StartPlan {
  collect?: CollectPlan;
  queue?: QueuePlan;
  /** Every rendered key by rule (`concurrency`, `concurrency_2`, `throttle`, …), for the execution's admission record. */
  keys: Record<string, string>;
}

/**
 * The plan of one start. `collectable`: the start comes from an event (debounce and batch collect events;
 * a direct start — API, manual, bulk, trigger-workflow — names one run, and so does a collected group's own
 * start once it flushes).
 */
export function planStart(rules: FlowControlRules, ctx: StartContext, now: number, collectable: boolean): StartPlan {
  const keys: Record<string, string> = {};
  const key = (rule: string, template: string | undefined) => (keys[rule] = renderKey(template, ctx, now));
  const collected = collectable ? (rules.debounce ?? rules.batch) : undefined;
  if (collected && rules.debounce) {
    const d = rules.debounce;
    return {
      keys,
      collect: {
        kind: "debounce",
        key: key("debounce", d.key),
        period_ms: d.period_ms,
        ...(d.max_wait_ms !== undefined ? { max_wait_ms: d.max_wait_ms } : {}),
        max_size: LIMITS.MAX_BATCH_SIZE,
        keep: d.mode === "batch" ? "all" : "last",
      },
    };
  }
  if (collected && rules.batch) {
    const b = rules.batch;
    return {
      keys,
      collect: { kind: "batch", key: key("batch", b.key), period_ms: b.timeout_ms, max_size: b.max_size, keep: "all" },
    };
  }
  const hasQueue = rules.concurrency.length > 0 || rules.throttle || rules.rate_limit || rules.singleton;
  if (!hasQueue) return { keys };
  const queue: QueuePlan = {
    concurrency: rules.concurrency.map((c, i) => ({
      limit: c.limit,
      key: key(i === 0 ? "concurrency" : "concurrency_2", c.key),
    })),
    priority: rules.priority ? renderPriority(rules.priority.run, ctx, now) : 0,
  };
  if (rules.singleton) queue.singleton = { key: key("singleton", rules.singleton.key), mode: rules.singleton.mode };
  if (rules.throttle) queue.throttle = { key: key("throttle", rules.throttle.key), gcra: throttleGcra(rules.throttle) };
  if (rules.rate_limit)
    queue.rate_limit = { key: key("rate_limit", rules.rate_limit.key), gcra: rateLimitGcra(rules.rate_limit) };
  return { keys, queue };
}

/** When a collecting group is due to start its execution: the quiet period after its last event (capped by max_wait), or the batch timeout. */
export function collectDueAt(
  plan: Pick<CollectPlan, "kind" | "period_ms" | "max_wait_ms">,
  openedAt: number,
  lastAt: number,
): number {
  if (plan.kind === "batch") return openedAt + plan.period_ms;
  const quiet = lastAt + plan.period_ms;
  return plan.max_wait_ms === undefined ? quiet : Math.min(quiet, openedAt + plan.max_wait_ms);
}
