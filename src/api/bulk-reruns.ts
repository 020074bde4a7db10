import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { BulkJobParams, PatchBulkJobRequestSchema } from "../schemas/bulk-jobs";
import { BulkRerunJobSchema, BulkRerunQuery, BulkRerunRequestSchema } from "../schemas/reruns";
import { createBulkRerun, patchBulkRerun, requireBulkRerun } from "../services/bulk-reruns";
import { rerunItemCounts, rerunItemsPage, type BulkRerunRow } from "../store/bulk-reruns";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, triggerRoute } from "./router";

/** Bulk reruns: rerun the failed executions of a flow as a job with approval (docs/reruns.md). */

const TAGS = ["bulk"];

async function jobView(env: Env, job: BulkRerunRow, page: { from?: number; size?: number } = {}, taskToken?: string) {
  const from = page.from ?? 0;
  const size = page.size ?? LIMITS.MAX_PAGE_SIZE;
  const [counts, items] = await Promise.all([
    rerunItemCounts(env.DB, job.id),
    size > 0 ? rerunItemsPage(env.DB, job, from, size + 1) : Promise.resolve([]),
  ]);
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
    ...(taskToken ? { task_token: taskToken } : {}),
    ...(job.error ? { error: job.error } : {}),
    filter: job.filter,
    retry_strategy: job.retry_strategy,
    ...(job.from_action_id ? { from_action_id: job.from_action_id } : {}),
    reuse_outputs: job.reuse_outputs,
    preview: job.preview,
    counts: { ...counts, total: job.items_total },
    items: items.slice(0, size).map((i) => ({
      seq: i.seq,
      execution_id: i.execution_id,
      action_id: i.action_id,
      status: i.status,
      effects: i.effects,
      ...(i.error ? { error: i.error } : {}),
      ...(i.execution_status ? { execution_status: i.execution_status } : {}),
      updated_at: i.updated_at,
    })),
    items_paging: { from, size, next_from: items.length > size ? items[size].seq : null },
  };
}

const createJob = triggerRoute("automations:trigger", {
  method: "post",
  path: "/",
  operationId: "createBulkRerun",
  tags: TAGS,
  summary:
    "Rerun the failed executions of a flow (filters: status, time range, error code, failed action) as a job. Each rerun is previewed first: the job waits in `approval` with the totals (executions, effects per target); approve it with the returned `task_token`.",
  request: jsonBody(BulkRerunRequestSchema),
  responses: {
    202: jsonResponse(BulkRerunJobSchema, "The job, waiting for approval"),
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

const getJob = scopedRoute("automations:read", {
  method: "get",
  path: "/{job_id}",
  operationId: "getBulkRerun",
  tags: TAGS,
  summary: "Get a bulk rerun: status, preview totals, counts and a page of its executions",
  request: { params: BulkJobParams, query: BulkRerunQuery },
  responses: { 200: jsonResponse(BulkRerunJobSchema, "The job"), ...errorResponses(400, 401, 403, 404) },
});

const patchJob = scopedRoute("automations:trigger", {
  method: "patch",
  path: "/{job_id}",
  operationId: "patchBulkRerun",
  tags: TAGS,
  summary: "Approve or cancel a bulk rerun with its task token (403 for a wrong token, 409 if the job cannot do that now)",
  request: {
    params: BulkJobParams,
    ...jsonBody(PatchBulkJobRequestSchema),
  },
  responses: { 200: jsonResponse(BulkRerunJobSchema, "The job"), ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const bulkRerunsRouter = createRouter()
  .openapi(createJob, async (c) => {
    const { job, taskToken } = await createBulkRerun(c.env, c.get("principal"), c.req.valid("json"));
    return c.json(asResponse(BulkRerunJobSchema, await jobView(c.env, job, {}, taskToken)), 202);
  })
  .openapi(getJob, async (c) => {
    const { job_id } = c.req.valid("param");
    const q = c.req.valid("query");
    const job = await requireBulkRerun(c.env, c.get("principal").orgId, job_id);
    return c.json(asResponse(BulkRerunJobSchema, await jobView(c.env, job, { from: q.items_from, size: q.items_size })), 200);
  })
  .openapi(patchJob, async (c) => {
    const { job_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const job = await patchBulkRerun(c.env, c.get("principal").orgId, job_id, body.action, body.task_token);
    return c.json(asResponse(BulkRerunJobSchema, await jobView(c.env, job)), 200);
  });
