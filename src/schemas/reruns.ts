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

// ---- bulk reruns ------------------------------------------------------------------------------------

const RerunnableStatus = z.enum(["failed", "success", "skipped"]);
const DateTime = z.string().datetime({ offset: true }).openapi({ format: "date-time" });

export const BulkRerunRequestSchema = z
  .object({
    flow_id: z.string().min(1).max(200),
    filter: z
      .strictObject({
        status: z
          .array(RerunnableStatus)
          .min(1)
          .max(3)
          .optional()
          .openapi({ description: "Executions in these statuses (default: failed). Cancelled executions cannot be rerun." }),
        created_after: DateTime.optional().openapi({ description: "Created at or after this time" }),
        created_before: DateTime.optional().openapi({ description: "Created before this time" }),
        error_code: z.string().min(1).max(100).optional().openapi({ description: "The execution's last error has this code" }),
        action_id: z.string().min(1).max(200).optional().openapi({ description: "This action of the execution failed" }),
      })
      .optional(),
    from_action_id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Rerun every execution from this action; default: from each execution's failed action" }),
    retry_strategy: z.enum(RETRY_STRATEGIES).optional(),
    condition_id: z.string().min(1).max(200).optional(),
    reuse_outputs: z.array(z.string().min(1).max(200)).max(LIMITS.MAX_ACTIONS_PER_FLOW).optional(),
  })
  .strict()
  .openapi("BulkRerunRequest", {
    description: `At most ${LIMITS.MAX_BULK_RERUN_EXECUTIONS} executions per job; each is previewed at creation, nothing is sent before approval`,
  });

export const BulkRerunPreviewSchema = z
  .object({
    executions: z.number().int(),
    refused: z.number().int().openapi({ description: "Executions whose rerun the preview refused: never retriggered" }),
    effects: z.number().int(),
    repeated_idempotency_keys: z.number().int(),
    by_target: z.array(TargetTotalSchema),
  })
  .openapi("BulkRerunPreview");

export const BulkRerunJobSchema = z
  .object({
    job_id: z.string(),
    org_id: z.string(),
    flow_id: z.string(),
    status: z.enum(["approval", "running", "finished", "cancelled", "failed"]),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    approved_at: z.string().optional(),
    finished_at: z.string().optional(),
    task_token: z.string().optional().openapi({ description: "Returned once, to the creator: approves or cancels the job" }),
    error: z.string().optional(),
    filter: z.record(z.string(), z.unknown()),
    retry_strategy: z.enum(RETRY_STRATEGIES),
    from_action_id: z.string().optional(),
    reuse_outputs: z.array(z.string()),
    preview: BulkRerunPreviewSchema,
    counts: z.object({ total: z.number().int() }).catchall(z.number().int()),
    items: z.array(
      z.object({
        seq: z.number().int(),
        execution_id: z.string(),
        action_id: z.string(),
        status: z.enum(["pending", "starting", "retriggered", "refused", "failed", "cancelled"]),
        effects: z.number().int(),
        error: z.string().optional(),
        execution_status: z.string().optional().openapi({ description: "The execution's status now" }),
        updated_at: z.string(),
      }),
    ),
    items_paging: z.object({ from: z.number().int(), size: z.number().int(), next_from: z.number().int().nullable() }),
  })
  .openapi("BulkRerunJob");

export const BulkRerunQuery = z.object({
  items_from: z.coerce.number().int().min(0).optional(),
  items_size: z.coerce.number().int().min(0).max(LIMITS.MAX_BULK_SUMMARY_PAGE).optional(),
});
