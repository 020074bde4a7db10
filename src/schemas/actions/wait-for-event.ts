import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { SimpleConditionSchema } from "../conditions";
import { DurationSchema } from "../flow-control";

/**
 * The `wait_for_event` action (docs/flow-control.md): the execution pauses until an event arrives that
 * matches its spec(s), or its timeout passes. Event names are static (the engine indexes waits by name);
 * `correlate.value` and the values of `if` may be templates, rendered when the wait begins.
 */

/** The event names a wait can name: a custom event's or trigger-event's name, or an event type (`entity_operation`, `webhook`, …). */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
/** A path into the event: dotted names and `[n]` indices (`payload.order_id`, `entity.items[0].id`). */
export const EVENT_PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d{1,4}\])*$/;

export const EventNameSchema = z
  .string()
  .min(1)
  .max(200)
  // No template: waits are looked up by the event's name, so it must be known when the flow is saved.
  .regex(EVENT_NAME_PATTERN, "must be an event name (letters, digits and . _ : / -; no template)")
  .openapi({ example: "order.paid" });

const CorrelateSchema = z
  .strictObject({
    event_path: z
      .string()
      .min(1)
      .max(300)
      .regex(EVENT_PATH_PATTERN, "must be a path such as payload.order_id")
      .openapi({ example: "payload.order_id" }),
    value: z.union([z.string().min(1).max(1000), z.number(), z.boolean()]).openapi({
      description: "Matched against the event's value at event_path (compared as text)",
      example: "{{ entity.order_id }}",
    }),
  })
  .openapi("WaitCorrelation");

export const WaitSpecSchema = z
  .strictObject({
    event: EventNameSchema,
    correlate: CorrelateSchema.optional(),
    if: z
      .array(SimpleConditionSchema)
      .min(1)
      .max(20)
      .optional()
      .openapi({ description: "Conditions over the event (fields are paths into it, e.g. payload.amount); all must hold" }),
  })
  .openapi("WaitSpec");
export type WaitSpec = z.output<typeof WaitSpecSchema>;

const Timeout = DurationSchema(1_000, LIMITS.MAX_WAIT_TIMEOUT_MS);
const Lookback = DurationSchema(0, LIMITS.MAX_WAIT_LOOKBACK_MS);

export const WaitForEventConfig = z
  .strictObject({
    ...WaitSpecSchema.shape,
    event: EventNameSchema.optional(),
    events: z.array(WaitSpecSchema).min(1).max(LIMITS.MAX_WAIT_SPECS).optional(),
    mode: z
      .enum(["any", "all"])
      .default("any")
      .openapi({ description: "With several `events`: the first match ends the wait (`any`), or one of each (`all`)" }),
    timeout: Timeout,
    lookback: Lookback.optional().openapi({ description: "Events that arrived up to this long before the wait count too" }),
    on_timeout: z.enum(["continue", "fail"]).default("continue"),
  })
  .superRefine((c, ctx) => {
    const single = c.event !== undefined;
    if (single === (c.events !== undefined))
      ctx.addIssue({ code: "custom", path: ["event"], message: "set `event` (one spec) or `events` (several), not both" });
    if (!single && (c.correlate !== undefined || c.if !== undefined))
      ctx.addIssue({ code: "custom", path: ["correlate"], message: "with `events`, put correlate and if inside each spec" });
  })
  .openapi("WaitForEventConfig");
export type WaitForEventConfigInput = z.output<typeof WaitForEventConfig>;

/** The specs of a wait's config, the single-spec form included. */
export function waitSpecsOf(c: WaitForEventConfigInput): WaitSpec[] {
  if (c.events) return c.events;
  return [{ event: c.event!, ...(c.correlate ? { correlate: c.correlate } : {}), ...(c.if ? { if: c.if } : {}) }];
}

/** The (event name, path) pairs a flow's waits correlate on ('' for an uncorrelated spec): the registry rows of store/event-waits.ts. */
export function waitPathsOf(
  actions: readonly { type: string; config?: unknown }[],
): { event_name: string; event_path: string }[] {
  const seen = new Map<string, { event_name: string; event_path: string }>();
  for (const a of actions) {
    if (a.type !== "wait_for_event") continue;
    const parsed = WaitForEventConfig.safeParse(a.config);
    if (!parsed.success) continue;
    for (const spec of waitSpecsOf(parsed.data)) {
      const row = { event_name: spec.event, event_path: spec.correlate?.event_path ?? "" };
      seen.set(`${row.event_name}\u0000${row.event_path}`, row);
    }
  }
  return [...seen.values()];
}

/** wait_for_event cannot run in a loop (one wait per action): refused when the flow is saved. */
export function waitForEventIssues(
  actions: readonly { type: string; loop_id?: string }[],
): { path: (string | number)[]; message: string }[] {
  return actions.flatMap((a, i) =>
    a.type === "wait_for_event" && a.loop_id !== undefined
      ? [{ path: ["actions", i, "loop_id"], message: "wait_for_event cannot run inside a loop" }]
      : [],
  );
}
