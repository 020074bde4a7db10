import type { Principal } from "../lib/principal";
import { decidePatch, type BulkJobAction } from "../engine/bulk-job";
import type { ExecutionState } from "../engine/execution/types";
import type { Env } from "../env";
import { AppError, forbidden, notFound, type ErrorDetail } from "../lib/errors";
import { randomToken, sha256Hex, timingSafeEqual } from "../lib/crypto";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { BulkMessage, BulkTriggerRequest } from "../schemas/bulk-jobs";
import type { EntitySearchFilter } from "../schemas/entity-search";
import {
  approveBulkJob,
  countSelection,
  endBulkJob,
  finishWithReport,
  getBulkJob,
  insertBulkJob,
  itemStatusCounts,
  itemsPage,
  type BulkJobRow,
} from "../store/bulk-jobs";
import { getFlow } from "../store/flows";
import { filterToSql, type SqlFragment } from "../store/record-sql";
import { queryRecordIds } from "../store/records";
import { admissionRefusal } from "./admission";
import { enqueueEvent } from "./event-queue";
import { changeEvent } from "./record-events";
import { compileRecordQuery, createRecord, deleteRecord } from "./records";

/** Queue names of the bulk work (wrangler.toml). */
export const BULK_QUEUE = "automation-bulk";
export const BULK_DLQ = "automation-bulk-dlq";

type Distribute<T> = T extends unknown ? Omit<T, "id"> : never;
export const bulkMessage = (m: Distribute<BulkMessage>): BulkMessage =>
  ({ id: `bulk:${m.job_id}:${m.type}:${"page" in m ? m.page : "after_seq" in m ? m.after_seq : 0}`, ...m }) as BulkMessage;

/** Sends bulk messages, after `delaySeconds` if given. */
export async function sendBulk(env: Env, messages: BulkMessage[], delaySeconds?: number): Promise<void> {
  const delay = delaySeconds ? { delaySeconds } : {};
  // sendBatch takes at most 100 messages per call.
  for (let i = 0; i < messages.length; i += 100) {
    await env.BULK_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const, ...delay })));
  }
}

/** A selection error as a 400 naming the request field. */
const selectionError = (code: string, field: string, message: string, extra: ErrorDetail[] = []) =>
  new AppError(400, code, message, [{ path: field, location: "json", message }, ...extra]);

/** The SQL condition of a query or filter selection (validated: a bad one is a 400 naming the field). */
export function selectionWhere(type: "query" | "filter", data: unknown): SqlFragment {
  const field = type === "query" ? "entities_query" : "entities_filter";
  try {
    return type === "query" ? compileRecordQuery(data as string, field) : filterToSql(data as EntitySearchFilter);
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 400) throw err;
    throw new AppError(
      400,
      err.code,
      err.message,
      err.details.length
        ? err.details.map((d) => ({ ...d, path: field, location: "json" }))
        : [{ path: field, location: "json", message: err.message }],
    );
  }
}

/** Validates the flow and the selection, stores the job in `approval` and returns it with its task token. */
export async function createBulkJob(
  env: Env,
  principal: Principal,
  req: BulkTriggerRequest,
): Promise<{ job: BulkJobRow; taskToken: string }> {
  const flow = await getFlow(env.DB, principal.orgId, req.flow_id);
  if (!flow)
    throw new AppError(404, "NOT_FOUND", "Flow not found", [{ path: "flow_id", location: "json", message: "No such flow" }]);
  // Admission's rule (services/admission.ts), named on the request field; each page asks again when it starts.
  const refusal = admissionRefusal(flow, 0);
  if (refusal) {
    throw new AppError(409, refusal.code, refusal.message, [{ path: "flow_id", location: "json", message: refusal.reason }]);
  }

  let type: BulkJobRow["query_type"];
  let data: unknown;
  if (req.entities_refs) {
    type = "refs";
    // Duplicates are one record: exactly one execution per record.
    const seen = new Set<string>();
    data = req.entities_refs.filter((r) => !seen.has(r.entity_id) && seen.add(r.entity_id));
  } else {
    type = req.entities_query !== undefined ? "query" : "filter";
    data = type === "query" ? req.entities_query : req.entities_filter;
    const field = type === "query" ? "entities_query" : "entities_filter";
    const n = await countSelection(env.DB, principal.orgId, selectionWhere(type, data), LIMITS.MAX_BULK_RECORDS_PER_JOB + 1);
    if (n === 0) throw selectionError("EMPTY_SELECTION", field, "The selection matches no record");
    if (n > LIMITS.MAX_BULK_RECORDS_PER_JOB) {
      throw selectionError(
        "SELECTION_TOO_LARGE",
        field,
        `The selection matches more than ${LIMITS.MAX_BULK_RECORDS_PER_JOB} records; narrow it or split the job`,
      );
    }
  }

  const taskToken = randomToken(32);
  const now = isoNow();
  const id = newId();
  await insertBulkJob(env.DB, {
    id,
    org_id: principal.orgId,
    flow_id: flow.id,
    created_by: principal.userId || principal.actor,
    task_token_hash: await sha256Hex(taskToken),
    trigger_context: req.trigger_context ?? null,
    query_type: type,
    query_data: data,
    page_size: LIMITS.BULK_PAGE_SIZE,
    load_page_size: LIMITS.BULK_LOAD_PAGE_SIZE,
    now,
  });
  return { job: (await getBulkJob(env.DB, principal.orgId, id))!, taskToken };
}

export async function requireBulkJob(env: Env, orgId: string, id: string): Promise<BulkJobRow> {
  const job = await getBulkJob(env.DB, orgId, id);
  if (!job) throw notFound("Bulk job");
  return job;
}

/**
 * APPROVE or CANCEL with the job's task token. A wrong token is 403 and a refused transition 409; in
 * both cases nothing changes. The work itself is done by bulk queue messages.
 */
export async function patchBulkJob(
  env: Env,
  orgId: string,
  id: string,
  action: BulkJobAction,
  token: string,
): Promise<BulkJobRow> {
  const job = await requireBulkJob(env, orgId, id);
  if (!timingSafeEqual(await sha256Hex(token), job.task_token_hash)) throw forbidden("Invalid task token for this job");
  const decision = decidePatch(job.status, action);
  if (!decision.ok) throw new AppError(409, "CONFLICT", decision.message);
  const now = isoNow();
  if (action === "APPROVE") {
    // Compare-and-set: of two concurrent approvals, one wins and the other is a 409.
    if (!(await approveBulkJob(env.DB, orgId, id, now))) throw new AppError(409, "CONFLICT", "The job was already approved");
    await sendBulk(env, [bulkMessage({ type: "load", org_id: orgId, job_id: id, page: 0 })]);
  } else {
    if (!(await endBulkJob(env.DB, orgId, id, "cancelled", null, now))) {
      throw new AppError(409, "CONFLICT", "The job already ended");
    }
    // Items not started stop here; started executions are cancelled page by page.
    await sendBulk(env, [bulkMessage({ type: "cancel", org_id: orgId, job_id: id, after_seq: -1 })]);
  }
  return requireBulkJob(env, orgId, id);
}

/**
 * Called by ExecutionObject after the D1 batch that recorded a bulk execution's end: when that batch
 * moved the job to send_report (or finds it there without a report, on a replay), the report is due.
 */
export async function onBulkItemFinished(env: Env, state: ExecutionState, jobRow: unknown): Promise<void> {
  const row = jobRow as { id: string; org_id: string; status: string; report_file_entity_id: string | null } | undefined;
  if (!row || row.status !== "send_report" || row.report_file_entity_id) return;
  await sendBulk(env, [bulkMessage({ type: "report", org_id: state.org_id, job_id: row.id })]);
}

/** Schema of the report records (one per finished job). */
export const BULK_REPORT_SCHEMA = "bulk_job_report";

/** The job's report record, if an earlier (crashed or concurrent) attempt already wrote it. */
async function existingReport(env: Env, job: BulkJobRow): Promise<string | null> {
  const where = filterToSql([{ term: { _schema: BULK_REPORT_SCHEMA } }, { term: { job_id: job.id } }]);
  const [hit] = await queryRecordIds(env.DB, job.org_id, where, null, 1);
  return hit?.id ?? null;
}

/**
 * send_report → finished: stores the report (counts per status and the failed items) as a record and
 * sets its id in the job. Idempotent: an existing report is reused, and of two concurrent writers the
 * one that loses the compare-and-set deletes its copy. The record event tells flows a report is there.
 */
export async function writeBulkReport(env: Env, job: BulkJobRow): Promise<void> {
  if (job.status !== "send_report" || job.report_file_entity_id) return;
  const counts = await itemStatusCounts(env.DB, job.id);
  const failed = await itemsPage(env.DB, job.id, 0, LIMITS.MAX_BULK_REPORT_FAILED_ITEMS, "failed");
  const failedTotal = counts.failed ?? 0;
  let reportId = await existingReport(env, job);
  let created: Awaited<ReturnType<typeof createRecord>> | null = null;
  if (!reportId) {
    created = await createRecord(env.DB, job.org_id, `bulk_job:${job.id}`, BULK_REPORT_SCHEMA, {
      _title: `Bulk job ${job.id} report`,
      job_id: job.id,
      flow_id: job.flow_id,
      created_by: job.created_by,
      approved_at: job.approved_at,
      total: job.items_total,
      status_counts: counts,
      failed_items_total: failedTotal,
      failed_items_truncated: failedTotal > failed.length,
      failed_items: failed.map((i) => ({
        entity_id: i.entity_id,
        ...(i.entity_schema ? { entity_schema: i.entity_schema } : {}),
        execution_id: i.execution_id,
        error: (i.error ?? "").slice(0, 200),
      })),
    });
    reportId = created.record!._id;
  }
  if (await finishWithReport(env.DB, job.org_id, job.id, reportId, isoNow())) {
    // Its event only once the report is the job's (a consumer that lost the race deletes its own, silently).
    const event = created && changeEvent(created.change, { eventId: `rec:bulk-report:${job.id}` });
    if (event) await enqueueEvent(env, event);
  } else if (created) {
    await deleteRecord(env.DB, job.org_id, `bulk_job:${job.id}`, BULK_REPORT_SCHEMA, reportId);
  }
}
