import { z } from "@hono/zod-openapi";
import { EXECUTION_STATUSES, RETRY_STRATEGIES } from "../engine/execution/types";
import { SIDE_EFFECT_KINDS } from "../engine/reruns/side-effects";
import { LIMITS } from "../lib/limits";

/** The ledger of side effects, rerun previews and bulk reruns (docs/reruns.md). */

const EffectFields = {
  kind: z.enum(SIDE_EFFECT_KINDS),
  target: z.string().openapi({
    description:
      "host/path of a request, platform.tool of a provider call, schema or schema/id of a record, flow/<id>, event/<name>, user/<id>",
  }),
  method: z.string().optional(),
  idempotency_key: z.string().nullable(),
  dedupe: z.enum(["receiver", "engine", "none"]).openapi({
    description:
      "Who drops a repeat: the receiver (it gets the idempotency key), the engine (what it writes is keyed by it), or nobody",
  }),
  operation: z.string().optional(),
  note: z.string().optional(),
  action_id: z.string(),
  action_name: z.string().openapi({ description: "The action's name, or its id when it has none" }),
  action_type: z.string(),
  iteration: z.number().int().nullable(),
  attempt: z.number().int(),
  repeats_idempotency_key: z.boolean().openapi({ description: "An earlier effect of this execution carried the same key" }),
};

export const LedgerEntrySchema = z
  .object({
    ...EffectFields,
    seq: z.number().int(),
    started_at: z.string(),
    ended_at: z.string(),
    outcome: z.enum(["ok", "failed", "unknown"]),
    status: z.number().int().optional(),
    ref: z.string().optional().openapi({ description: "The record, execution, event or notification written" }),
    requests: z.number().int().optional(),
    tokens: z.object({ input: z.number().optional(), output: z.number().optional(), total: z.number().optional() }).optional(),
  })
  .openapi("LedgerEntry");

const TargetTotalSchema = z
  .object({
    kind: z.enum(SIDE_EFFECT_KINDS),
    target: z.string(),
    count: z.number().int(),
    repeated: z.number().int(),
    tokens: z.number().optional(),
  })
  .openapi("EffectTargetTotal");

export const EffectTotalsSchema = z
  .object({
    effects: z.number().int(),
    repeated_idempotency_keys: z.number().int(),
    model_tokens: z.number(),
    by_target: z.array(TargetTotalSchema),
  })
  .openapi("EffectTotals");

export const EffectsLedgerSchema = z
  .object({
    execution_id: z.string(),
    total: z.number().int(),
    from: z.number().int(),
    size: z.number().int(),
    next_from: z.number().int().nullable(),
    effects: z.array(LedgerEntrySchema),
    totals: EffectTotalsSchema,
  })
  .openapi("EffectsLedger");

export const EffectsQuery = z.object({
  from: z.coerce.number().int().min(0).max(10_000_000).optional(),
  size: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIMITS.MAX_LEDGER_PAGE)
    .optional()
    .openapi({ description: `Entries per page (default and most ${LIMITS.MAX_LEDGER_PAGE})` }),
});

const StatusSchema = z.enum(EXECUTION_STATUSES);

export const RerunPreviewSchema = z
  .object({
    execution_id: z.string(),
    action_id: z.string(),
    retry_strategy: z.enum(RETRY_STRATEGIES),
    condition_id: z.string().optional(),
    reuse_outputs: z.array(z.string()),
    status_before: StatusSchema,
    status_after: StatusSchema,
    complete: z.boolean(),
    actions: z.array(
      z.object({
        action_id: z.string(),
        action_name: z.string(),
        action_type: z.string(),
        decision: z.enum(["re-execute", "reuse-output", "skip"]),
        status_before: StatusSchema,
        status_after: StatusSchema,
        calls: z.number().int(),
        effects: z.number().int(),
        reason: z.string().optional(),
      }),
    ),
    effects: z.array(z.object(EffectFields)),
    totals: EffectTotalsSchema,
    assumptions: z.array(z.string()),
  })
  .openapi("RerunPreview");
