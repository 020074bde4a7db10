import { z } from "@hono/zod-openapi";
import { BULK_JOB_STATUSES } from "../engine/bulk-job";
import { LIMITS } from "../lib/limits";
import { IdParam } from "./common";
import { EntitySearchFilterSchema } from "./entity-search";
import { ExecutionStatusSchema } from "./executions";
import { SCHEMA_NAME_PATTERN } from "./records";

/** epilot's bulk trigger documents: BulkTriggerRequest, PatchBulkJobRequest, BulkTriggerJob, ExecItem. */

export const EntityRefSchema = z
  .object({
    entity_id: z.string().min(1).max(200),
    entity_schema: z.string().regex(SCHEMA_NAME_PATTERN, "Schema names are 1-64 characters of a-z, 0-9, _ and -"),
  })
  .openapi("EntityRef");

export const TriggerContextSchema = z
  .record(z.string().min(1).max(100), z.string().max(1000))
  .refine((o) => Object.keys(o).length <= 50, "At most 50 keys")
  .openapi("TriggerContext", {
    description: "Additional context passed to every execution of the job (`trigger_event.trigger_context`)",
    example: { entity_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef" },
  });

const SELECTIONS = ["entities_refs", "entities_query", "entities_filter"] as const;

export const BulkTriggerRequestSchema = z
  .object({
    flow_id: z.string().min(1).max(200),
    entities_refs: z
      .array(EntityRefSchema)
      .min(1, "Select at least one record")
      .max(LIMITS.MAX_BULK_ENTITY_REFS, `At most ${LIMITS.MAX_BULK_ENTITY_REFS} refs; select more records with a query or filter`)
      .optional(),
    entities_query: z
      .string()
      .min(1, "An empty query; use `*` to select every record")
      .max(LIMITS.MAX_QUERY_LENGTH)
      .optional()
      .openapi({
        description: "Query string over the records store (syntax in docs/records.md)",
        example: "_schema:contact AND status:active",
      }),
    entities_filter: EntitySearchFilterSchema.optional(),
    trigger_context: TriggerContextSchema.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const given = SELECTIONS.filter((k) => body[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: given.length ? [given[1]] : [],
        message: `Give exactly one of ${SELECTIONS.join(", ")} (got ${given.length ? given.join(", ") : "none"})`,
      });
    }
  })
  .openapi("BulkTriggerRequest", {
    description: "The flow to run and exactly one record selection: `entities_refs`, `entities_query` or `entities_filter`",
  });
export type BulkTriggerRequest = z.infer<typeof BulkTriggerRequestSchema>;

export const PatchBulkJobRequestSchema = z
  .object({ action: z.enum(["APPROVE", "CANCEL"]), task_token: z.string().min(1).max(200) })
  .strict()
  .openapi("PatchBulkJobRequest");

export const ExecItemSchema = z
  .object({
    entity_id: z.string(),
    entity_schema: z.string().optional(),
    execution_id: z.string().optional(),
    execution_status: ExecutionStatusSchema,
    timestamp: z.string().optional(),
    error: z.string().optional(),
  })
  .openapi("ExecItem");

export const BulkJobStatusSchema = z.enum(BULK_JOB_STATUSES).openapi("BulkJobStatus");

export const BulkTriggerJobSchema = z
  .object({
    job_id: z.string(),
    org_id: z.string(),
    flow_id: z.string(),
    status: BulkJobStatusSchema,
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    approved_at: z.string().optional(),
    finished_at: z.string().optional(),
    trigger_context: z.record(z.string(), z.string()).optional(),
    task_token: z.string().optional().openapi({ description: "Returned once, to the creator: approves or cancels the job" }),
    report_file_entity_id: z.string().optional(),
    error: z.string().optional(),
    entity_query: z.object({
      type: z.enum(["refs", "query", "filter"]),
      data: z.union([z.array(EntityRefSchema), z.string(), z.array(z.record(z.string(), z.unknown()))]),
    }),
    pagination_state: z.object({
      page_size: z.number().int(),
      load_page_size: z.number().int(),
      pages_processed: z.number().int(),
      total_processed: z.number().int(),
      search_after: z.array(z.union([z.string(), z.number()])).optional(),
      has_more: z.boolean(),
    }),
    counts: z
      .object({ total: z.number().int(), dispatched: z.number().int(), finished: z.number().int(), waiting: z.number().int() })
      .catchall(z.number().int())
      .openapi({
        description:
          "Items in all, started (or settled before a start), final, and waiting (a delay, a schedule or a pause: they hold no room in the job's window of executions in flight); then one count per execution status",
      }),
    execution_summary: z.array(ExecItemSchema),
    execution_summary_paging: z.object({
      from: z.number().int(),
      size: z.number().int(),
      next_from: z.number().int().nullable().openapi({ description: "`summary_from` of the next page; null on the last" }),
    }),
  })
  .openapi("BulkTriggerJob");

export const BulkJobParams = z.object({ job_id: IdParam("job_id") });

export const BulkJobQuery = z.object({
  summary_from: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: "Position (item seq) the execution_summary page starts at" }),
  summary_size: z.coerce
    .number()
    .int()
    .min(0)
    .max(LIMITS.MAX_BULK_SUMMARY_PAGE)
    .optional()
    .openapi({ description: `Items per execution_summary page (default ${LIMITS.MAX_PAGE_SIZE}, 0 for none)` }),
  summary_status: ExecutionStatusSchema.optional().openapi({ description: "Only items in this execution status" }),
});

/** A `bulk` queue message: one page of a job's work. `id` is deterministic (failure bookkeeping, dead letters). */
const msgBase = { id: z.string().max(300), org_id: z.string().min(1).max(200), job_id: z.string().min(1).max(200) };
export const BulkMessageSchema = z.discriminatedUnion("type", [
  z.object({ ...msgBase, type: z.literal("load"), page: z.number().int().min(0) }),
  z.object({
    ...msgBase,
    type: z.literal("execute"),
    page: z.number().int().min(0),
    /** How many times this page already found the window full (its next wait doubles, up to a cap). */
    deferrals: z.number().int().min(0).optional(),
  }),
  z.object({ ...msgBase, type: z.literal("cancel"), after_seq: z.number().int().min(-1) }),
  z.object({ ...msgBase, type: z.literal("report") }),
  // Bulk reruns (queues/bulk-reruns.ts): a page of retriggers, and a page of a cancel.
  z.object({ ...msgBase, type: z.literal("rerun"), page: z.number().int().min(0) }),
  z.object({ ...msgBase, type: z.literal("rerun_cancel"), after_seq: z.number().int().min(-1) }),
]);
export type BulkMessage = z.infer<typeof BulkMessageSchema>;
