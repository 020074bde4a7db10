import { z } from "zod";
import { enqueueEvent } from "../services/event-queue";
import type { NamedEvent } from "../schemas/events";
import type { SideEffect } from "../engine/reruns/side-effects";
import { defineAction, type EffectContext } from "./types";

/** The event the action emits: its id is the action's key, so the engine's inbox drops a repeat. */
const eventEffect = (ctx: Pick<EffectContext, "idempotencyKey">, name: string): SideEffect => ({
  kind: "event",
  target: `event/${name}`,
  operation: "emit",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/**
 * epilot's trigger-event: records an event and hands it to the events queue, where flows with an
 * `event` trigger of that name pick it up. Its id is the action's idempotency key, so a retried attempt
 * is the same event.
 */
export const triggerEventAction = defineAction({
  types: ["trigger-event"],
  config: z.object({ event_name: z.string().min(1).max(200), event_inputs: z.record(z.string(), z.unknown()).default({}) }),
  async run(ctx, cfg) {
    const event: NamedEvent = {
      id: `evt:${ctx.idempotencyKey}`,
      type: "event" as const,
      org_id: ctx.orgId,
      event_name: cfg.event_name,
      payload: cfg.event_inputs,
      entity_id: ctx.entityId || null,
      source: { execution_id: ctx.executionId, action_id: ctx.actionId },
      depth: ctx.depth + 1,
      at: new Date(ctx.now).toISOString(),
    };
    await enqueueEvent(ctx.env, event);
    return {
      kind: "success",
      outputs: { event_id: event.id, event_name: cfg.event_name },
      effects: [{ ...eventEffect(ctx, cfg.event_name), ref: event.id, outcome: "ok" }],
    };
  },
  effects: (ctx, cfg) => [eventEffect(ctx, cfg.event_name)],
});
