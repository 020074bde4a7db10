import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import {
  BulkJobParams,
  BulkJobQuery,
  BulkTriggerJobSchema,
  BulkTriggerRequestSchema,
  PatchBulkJobRequestSchema,
} from "../schemas/bulk-jobs";
import { createBulkJob, patchBulkJob, requireBulkJob } from "../services/bulk-jobs";
import { itemStatusCounts, itemsPage, type BulkJobRow } from "../store/bulk-jobs";
import { asResponse, createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "./router";

const TAGS = ["bulk"];

interface SummaryPage {
  from?: number;
  size?: number;
  status?: string;
}

/** The job as the API shows it: epilot's BulkTriggerJob plus counts and a page of the execution summary. */
async function jobView(env: Env, job: BulkJobRow, page: SummaryPage = {}, taskToken?: string) {
  const from = page.from ?? 0;
  const size = page.size ?? LIMITS.MAX_PAGE_SIZE;
  const [counts, items] = await Promise.all([
    itemStatusCounts(env.DB, job.id),
    size > 0 ? itemsPage(env.DB, job.id, from, size + 1, page.status) : Promise.resolve([]),
  ]);
  const shown = items.slice(0, size);
  const loaded = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    job_id: job.id,
    org_id: job.org_id,
    flow_id: job.flow_id,
    status: job.status,
    created_by: job.created_by,
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(job.approved_at ? { approved_at: job.approved_at } : {}),
    ...(job.finished_at ? { finished_at: job.finished_at } : {}),
    ...(job.trigger_context ? { trigger_context: job.trigger_context } : {}),
    ...(taskToken ? { task_token: taskToken } : {}),
    ...(job.report_file_entity_id ? { report_file_entity_id: job.report_file_entity_id } : {}),
    ...(job.error ? { error: job.error } : {}),
    entity_query: { type: job.query_type, data: job.query_data },
    pagination_state: {
      page_size: job.page_size,
      load_page_size: job.load_page_size,
      pages_processed: job.pages_processed,
      total_processed: job.total_processed,
      ...(job.search_after ? { search_after: [job.search_after] } : {}),
      has_more: job.has_more,
    },
    counts: {
      ...counts,
      total: job.items_total || loaded,
      dispatched: job.items_dispatched,
      finished: job.items_finished,
      waiting: job.items_waiting,
    },
    execution_summary: shown.map((i) => ({
      entity_id: i.entity_id,
      ...(i.entity_schema ? { entity_schema: i.entity_schema } : {}),
      execution_id: i.execution_id,
      execution_status: i.execution_status,
      timestamp: i.updated_at,
      ...(i.error ? { error: i.error } : {}),
    })),
    execution_summary_paging: { from, size, next_from: items.length > size ? items[size].seq : null },
  };
}

const createJob = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "bulkTriggerExecutions",
  tags: TAGS,
  summary:
    "Create a bulk job that runs a flow once for every selected record. It waits in `approval`: approve it with the returned `task_token` (patchBulkJob).",
  request: jsonBody(BulkTriggerRequestSchema),
  responses: {
    202: jsonResponse(BulkTriggerJobSchema, "The job, waiting for approval"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

const getJob = scopedRoute("automations:read", {
  method: "get",
  path: "/{job_id}",
  operationId: "getBulkJob",
  tags: TAGS,
  summary: "Get a bulk job: status, counts, loading state and a page of its execution summary",
  request: { params: BulkJobParams, query: BulkJobQuery },
  responses: { 200: jsonResponse(BulkTriggerJobSchema, "The job"), ...errorResponses(400, 401, 403, 404) },
});

const patchJob = scopedRoute("automations:trigger", {
  method: "patch",
  path: "/{job_id}",
  operationId: "patchBulkJob",
  tags: TAGS,
  summary: "Approve or cancel a bulk job with its task token (403 for a wrong token, 409 if the job cannot do that now)",
  request: {
    params: BulkJobParams,
    ...jsonBody(PatchBulkJobRequestSchema),
  },
  responses: { 200: jsonResponse(BulkTriggerJobSchema, "The job"), ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const bulkJobsRouter = createRouter()
  .openapi(createJob, async (c) => {
    const { job, taskToken } = await createBulkJob(c.env, c.get("principal"), c.req.valid("json"));
    return c.json(asResponse(BulkTriggerJobSchema, await jobView(c.env, job, {}, taskToken)), 202);
  })
  .openapi(getJob, async (c) => {
    const { job_id } = c.req.valid("param");
    const q = c.req.valid("query");
    const job = await requireBulkJob(c.env, c.get("principal").orgId, job_id);
    const view = await jobView(c.env, job, { from: q.summary_from, size: q.summary_size, status: q.summary_status });
    return c.json(asResponse(BulkTriggerJobSchema, view), 200);
  })
  .openapi(patchJob, async (c) => {
    const { job_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const job = await patchBulkJob(c.env, c.get("principal").orgId, job_id, body.action, body.task_token);
    return c.json(asResponse(BulkTriggerJobSchema, await jobView(c.env, job)), 200);
  });
