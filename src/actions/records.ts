import { z } from "zod";
import { AppError } from "../lib/errors";
import { recordChangeEvents, sendRecordEvent } from "../services/record-events";
import { createRecord, updateRecord } from "../services/records";
import type { SideEffect } from "../engine/reruns/side-effects";
import type { ActionContext, ActionResult, EffectContext } from "./types";
import { defineAction, permanentFailure } from "./types";

/**
 * A record written by an action. It carries the action's idempotency key but nothing drops a repeat: a
 * record created again is a second record, an update is applied again.
 */
export const recordEffect = (
  ctx: Pick<EffectContext, "idempotencyKey">,
  target: string,
  operation: string,
  ref?: string,
): SideEffect => ({
  kind: "record",
  target,
  operation,
  idempotency_key: ctx.idempotencyKey,
  dedupe: "none",
  ...(ref ? { ref } : {}),
});

/** Records written by a flow name the execution as their author. */
export const automationActor = (ctx: ActionContext): string => `automation:${ctx.executionId}`;

/**
 * The record event of an automation's write: one level deeper in the chain (so a flow re-triggering
 * itself stops at the chain limit), with an id fixed by the action so a retried attempt is the same event.
 */
export const automationEvent = (ctx: ActionContext, part = "") => ({
  eventId: `rec:${ctx.idempotencyKey}${part}:${ctx.attempt}`,
  depth: ctx.depth + 1,
});

/** A records-service error as an action failure: 4xx are final (bad data), anything else is retried. */
export function recordFailure(
  err: unknown,
  code: "MAPPING_ERROR" | "ENTITY_NOT_FOUND" | "INVALID_PAYLOAD" = "INVALID_PAYLOAD",
): ActionResult {
  if (err instanceof AppError) {
    const errorCode = err.status === 404 ? "ENTITY_NOT_FOUND" : code;
    // Refused by the records service: nothing was written.
    return {
      kind: "failed",
      error: { error_code: errorCode, error_reason: err.message, error_info: { details: err.details } },
      retry: err.status === 409 ? "policy" : "never",
      effects: [],
    };
  }
  return {
    kind: "failed",
    error: { error_code: "INTERNAL_ERROR", error_reason: (err as Error).message ?? String(err) },
    retry: "policy",
  };
}

/** Coherence's create_record: a new record in `module` with the (rendered) `data`. */
export const createRecordAction = defineAction({
  types: ["create_record"],
  config: z.object({ module: z.string().min(1), data: z.record(z.string(), z.unknown()).default({}) }),
  async run(ctx, cfg) {
    try {
      const result = await createRecord(
        ctx.env.DB,
        ctx.orgId,
        automationActor(ctx),
        cfg.module,
        cfg.data,
        recordChangeEvents(ctx.env, automationEvent(ctx)),
      );
      const { record, change } = result;
      await sendRecordEvent(result);
      return {
        kind: "success",
        outputs: { record_id: record!._id, record },
        response: { change: change.operation },
        effects: [{ ...recordEffect(ctx, cfg.module, "created", record!._id), outcome: "ok" }],
      };
    } catch (err) {
      return recordFailure(err);
    }
  },
  effects: (ctx, cfg) => [recordEffect(ctx, cfg.module, "create")],
});

/** The record an update_record config names: its schema and id, or why it names none. */
function updateTarget(
  ctx: Pick<EffectContext, "entity" | "entityId">,
  cfg: { record: "trigger" | "related" | "id"; module?: string; record_id?: string },
): { schema: string; id: string } | { error: ActionResult } {
  if (cfg.record === "trigger") {
    const schema = typeof ctx.entity?._schema === "string" ? ctx.entity._schema : undefined;
    const id = ctx.entityId || undefined;
    if (!schema || !id)
      return { error: permanentFailure("ENTITY_NOT_FOUND", "The execution has no triggering record to update") };
    return { schema, id };
  }
  if (!cfg.module || !cfg.record_id)
    return { error: permanentFailure("BAD_CONFIG", `update_record with record "${cfg.record}" needs module and record_id`) };
  return { schema: cfg.module, id: cfg.record_id };
}

/** Coherence's update_record: the triggering record, or a record named by module + id. */
export const updateRecordAction = defineAction({
  types: ["update_record"],
  config: z.object({
    record: z.enum(["trigger", "related", "id"]).default("trigger"),
    module: z.string().optional(),
    record_id: z.string().optional(),
    updates: z.record(z.string(), z.unknown()),
  }),
  async run(ctx, cfg) {
    const target = updateTarget(ctx, cfg);
    if ("error" in target) return target.error;
    const { schema, id } = target;
    try {
      const result = await updateRecord(
        ctx.env.DB,
        ctx.orgId,
        automationActor(ctx),
        schema,
        id,
        cfg.updates,
        recordChangeEvents(ctx.env, automationEvent(ctx)),
      );
      const { record, change } = result;
      await sendRecordEvent(result);
      return {
        kind: "success",
        outputs: {
          record_id: id,
          record,
          changed: Object.keys({ ...change.diff.added, ...change.diff.updated, ...change.diff.deleted }),
        },
        effects: [{ ...recordEffect(ctx, `${schema}/${id}`, "updated", id), outcome: "ok" }],
      };
    } catch (err) {
      return recordFailure(err);
    }
  },
  effects: (ctx, cfg) => {
    const target = updateTarget(ctx, cfg);
    return "error" in target ? [] : [recordEffect(ctx, `${target.schema}/${target.id}`, "update")];
  },
});
