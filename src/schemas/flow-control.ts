import { z } from "@hono/zod-openapi";
import { templateIssueMessage, validateTemplates } from "../engine/templates";
import { DURATION_HINT, parseDuration } from "../lib/duration";
import { LIMITS } from "../lib/limits";

/**
 * A flow's `flow_control` (docs/flow-control.md): how its starts are admitted. Keys and the priority are
 * Liquid templates over the trigger (`{{ entity._id }}`, `{{ trigger_event.payload.customer_id }}`),
 * rendered once per start; durations are strings such as "30s", "5m", "2h", "7d".
 */

/** A duration string of at least `minMs` and at most `maxMs`. */
export const DurationSchema = (minMs: number, maxMs: number) =>
  z
    .string()
    .max(20)
    .superRefine((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) ctx.addIssue({ code: "custom", message: `must be ${DURATION_HINT}` });
      else if (ms < minMs || ms > maxMs)
        ctx.addIssue({ code: "custom", message: `must be between ${minMs} ms and ${maxMs} ms (got ${ms} ms)` });
    })
    .openapi({ example: "5m", description: DURATION_HINT });

/** A template rendered over the trigger; a syntax error is a 400 naming the field. */
const Template = (description: string) =>
  z
    .string()
    .min(1)
    .max(1000)
    .superRefine((v, ctx) => {
      for (const issue of validateTemplates(v)) ctx.addIssue({ code: "custom", message: templateIssueMessage(issue) });
    })
    .openapi({ description, example: "{{ entity._id }}" });

const Key = Template("Template over the trigger whose value names the key (one bound per key); absent: one key for the flow");
const Period = DurationSchema(1_000, LIMITS.MAX_FLOW_CONTROL_PERIOD_MS);
const Rate = z.number().int().min(1).max(LIMITS.MAX_FLOW_CONTROL_RATE);

export const ConcurrencyControlSchema = z
  .strictObject({ limit: z.number().int().min(1).max(LIMITS.MAX_FLOW_CONCURRENCY), key: Key.optional() })
  .openapi("ConcurrencyControl", { description: "At most `limit` executions per key run at once; the others wait in order" });

export const ThrottleControlSchema = z
  .strictObject({
    limit: Rate,
    period: Period,
    burst: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.MAX_FLOW_CONTROL_RATE)
      .optional()
      .openapi({ description: "Starts allowed back to back on top of the steady rate (default 0: evenly spaced)" }),
    key: Key.optional(),
  })
  .openapi("ThrottleControl", { description: "At most `limit` starts per `period` per key; the rest wait for their slot" });

export const RateLimitControlSchema = z
  .strictObject({ limit: Rate, period: Period, key: Key.optional() })
  .openapi("RateLimitControl", { description: "At most `limit` starts per `period` per key; over it a start is skipped" });

export const DebounceControlSchema = z
  .strictObject({
    period: Period,
    key: Key.optional(),
    max_wait: Period.optional().openapi({ description: "Longest a key's first event waits, however many follow" }),
    mode: z
      .enum(["last", "batch"])
      .default("last")
      .openapi({ description: "`last`: start with the last event; `batch`: with all of them as `trigger_events`" }),
  })
  .openapi("DebounceControl", {
    description: "Events of a key start one execution once `period` passed without another (or `max_wait` after the first)",
  });

export const BatchControlSchema = z
  .strictObject({
    max_size: z.number().int().min(1).max(LIMITS.MAX_BATCH_SIZE),
    timeout: Period,
    key: Key.optional(),
  })
  .openapi("BatchControl", {
    description:
      "Up to `max_size` events of a key (or those that came within `timeout`) start one execution with `trigger_events`",
  });

export const PriorityControlSchema = z
  .strictObject({
    run: Template(`Template giving an integer (clamped to ±${LIMITS.MAX_PRIORITY}); higher waiting starts run first`),
  })
  .openapi("PriorityControl");

export const SingletonControlSchema = z
  .strictObject({
    key: Key.optional(),
    mode: z.enum(["skip", "cancel_previous"]).openapi({
      description: "`skip`: a start while one of its key runs or waits is skipped; `cancel_previous`: that one is cancelled",
    }),
  })
  .openapi("SingletonControl", { description: "At most one execution per key at a time" });

export const FlowControlSchema = z
  .strictObject({
    concurrency: z.array(ConcurrencyControlSchema).min(1).max(LIMITS.MAX_CONCURRENCY_KEYS).optional(),
    throttle: ThrottleControlSchema.optional(),
    rate_limit: RateLimitControlSchema.optional(),
    debounce: DebounceControlSchema.optional(),
    batch: BatchControlSchema.optional(),
    priority: PriorityControlSchema.optional(),
    singleton: SingletonControlSchema.optional(),
  })
  .superRefine((fc, ctx) => {
    if (fc.debounce && fc.batch)
      ctx.addIssue({ code: "custom", path: ["batch"], message: "debounce and batch both collect events: set one of them" });
    const { debounce } = fc;
    if (debounce?.max_wait && parseDuration(debounce.max_wait)! < parseDuration(debounce.period)!)
      ctx.addIssue({ code: "custom", path: ["debounce", "max_wait"], message: "must be at least the debounce period" });
  })
  .openapi("FlowControl", { description: "How the flow's starts are admitted (docs/flow-control.md)" });
export type FlowControl = z.output<typeof FlowControlSchema>;

/** A flow's `correlation_key`: a template over the trigger, stored on each execution and filterable in GET /executions. */
export const CorrelationKeySchema = Template("Stored on each execution; GET /executions?correlation_key= finds them").openapi({
  example: "{{ trigger_event.payload.order_id }}",
});

/**
 * Checks across a flow's fields: `concurrency_limit` is the keyless short form of one `concurrency` entry, and
 * the two together may name at most LIMITS.MAX_CONCURRENCY_KEYS bounds.
 */
export function flowControlIssues(flow: {
  concurrency_limit?: number;
  flow_control?: FlowControl;
}): { path: (string | number)[]; message: string }[] {
  const entries = (flow.flow_control?.concurrency?.length ?? 0) + (flow.concurrency_limit ? 1 : 0);
  if (entries <= LIMITS.MAX_CONCURRENCY_KEYS) return [];
  return [
    {
      path: ["flow_control", "concurrency"],
      message: `At most ${LIMITS.MAX_CONCURRENCY_KEYS} concurrency bounds, concurrency_limit included (it is the keyless form of one)`,
    },
  ];
}

const Age = z
  .number()
  .nullable()
  .openapi({ description: "ms since the oldest waiting start was requested; null when none waits" });

/** GET /flows/{flow_id}/queue: what of the flow runs and waits, per key, and what flow control holds back. */
export const FlowQueueSchema = z
  .object({
    flow_id: z.string(),
    running: z.number().int().openapi({ description: "Starts holding their slots (running, paused or scheduled executions)" }),
    waiting: z.number().int().openapi({ description: "Starts waiting for a slot or their throttle time" }),
    throttled: z.number().int().openapi({ description: "Of the waiting starts, those whose throttle time has not come" }),
    oldest_waiting_age_ms: Age,
    next_throttle_slot_at: z.string().nullable().openapi({ description: "When the next throttled start goes" }),
    keys: z
      .array(
        z.object({
          bound: z.enum(["concurrency", "concurrency_2", "singleton"]),
          key: z.string().openapi({ description: 'The rendered key ("" for the keyless bound)' }),
          running: z.number().int(),
          waiting: z.number().int(),
          oldest_waiting_age_ms: Age,
        }),
      )
      .openapi({ description: `Per bound, the busiest keys first (at most ${LIMITS.MAX_PAGE_SIZE} each)` }),
    throttle: z
      .object({
        limit: z.number().int(),
        period: z.string(),
        burst: z.number().int(),
        keys: z.array(z.object({ key: z.string(), next_slot_at: z.string().nullable() })).openapi({
          description: "When a new start of each key would go (a key not listed goes at once)",
        }),
      })
      .optional(),
    collecting: z
      .array(
        z.object({
          kind: z.enum(["debounce", "batch"]),
          key: z.string(),
          events: z.number().int(),
          state: z.string(),
          opened_at: z.string().nullable(),
          due_at: z.string().nullable(),
        }),
      )
      .openapi({ description: "Debounce and batch groups collecting events, the next due first" }),
  })
  .openapi("FlowQueue");
