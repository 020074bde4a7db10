import { addPreview, decideRerunPatch, emptyPreview, rerunTarget } from "../engine/reruns/bulk-rerun";
import type { RetryStrategy } from "../engine/execution/types";
import type { Env } from "../env";
import { randomToken, sha256Hex, timingSafeEqual } from "../lib/crypto";
import { AppError, forbidden, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import {
  approveBulkRerun,
  endBulkRerun,
  getBulkRerun,
  insertBulkRerun,
  moveRerunItems,
  rerunItemsIn,
  runRerunBatch,
  selectRerunCandidates,
  type BulkRerunRow,
  type NewRerunItem,
  type RerunFilter,
} from "../store/bulk-reruns";
import { getFlow } from "../store/flows";
import { bulkMessage, sendBulk } from "./bulk-jobs";
import { executionClient } from "./object-clients";

/**
 * Bulk reruns (docs/reruns.md): the failed executions of a flow (or others that ended), selected by status,
 * time range, error code and failed action, rerun as one job. Created in `approval` with the preview of every
 * rerun added up (executions, effects per target) before anything is sent; approved or cancelled with its task
 * token, as bulk jobs are. The retriggers themselves are sent page by page from the `bulk` queue
 * (queues/bulk-reruns.ts).
 */

export interface BulkRerunRequest {
  flow_id: string;
  filter?: { status?: string[]; created_after?: string; created_before?: string; error_code?: string; action_id?: string };
  from_action_id?: string;
  retry_strategy?: RetryStrategy;
  condition_id?: string;
  reuse_outputs?: string[];
}

const field = (path: string, message: string) => [{ path, location: "json", message }];

/** Runs `fn` over `items`, at most `limit` at a time. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The filter as stored: statuses default to `failed`, times as the executions table writes them. */
function normalizeFilter(f: BulkRerunRequest["filter"] = {}): RerunFilter {
  const iso = (v: string | undefined) => (v === undefined ? undefined : new Date(v).toISOString());
  return {
    status: f.status?.length ? [...new Set(f.status)] : ["failed"],
    ...(f.created_after ? { created_after: iso(f.created_after) } : {}),
    ...(f.created_before ? { created_before: iso(f.created_before) } : {}),
    ...(f.error_code ? { error_code: f.error_code } : {}),
    ...(f.action_id ? { action_id: f.action_id } : {}),
  };
}

/**
 * Selects the executions, previews the rerun of each (nothing is sent), stores the job in `approval` and returns
 * it with its task token. An execution without an action to rerun from (no failed action and no
 * `from_action_id`) is not selected; one whose preview is refused is kept as a `refused` item and never retriggered.
 */
export async function createBulkRerun(
  env: Env,
  principal: Principal,
  req: BulkRerunRequest,
): Promise<{ job: BulkRerunRow; taskToken: string }> {
  const flow = await getFlow(env.DB, principal.orgId, req.flow_id);
  if (!flow) throw new AppError(404, "NOT_FOUND", "Flow not found", field("flow_id", "No such flow"));
  const filter = normalizeFilter(req.filter);
  const cap = LIMITS.MAX_BULK_RERUN_EXECUTIONS;
  const candidates = await selectRerunCandidates(env.DB, principal.orgId, flow.id, filter, cap + 1);
  if (candidates.length > cap) {
    throw new AppError(
      400,
      "SELECTION_TOO_LARGE",
      `The filter matches more than ${cap} executions; narrow it (time range, error code, action) or split the job`,
      field("filter", `more than ${cap} executions`),
    );
  }
  const targets = candidates
    .map((c) => ({ execution_id: c.id, action_id: rerunTarget(c.actions_summary, req.from_action_id) }))
    .filter((t): t is { execution_id: string; action_id: string } => t.action_id !== null);
  if (targets.length === 0) {
    const why = candidates.length
      ? `none of the ${candidates.length} matching executions has ${req.from_action_id ? `action ${req.from_action_id}` : "a failed action"} to rerun from`
      : "no execution matches the filter";
    throw new AppError(400, "EMPTY_SELECTION", `Nothing to rerun: ${why}`, field("filter", why));
  }

  const strategy = req.retry_strategy ?? "RETRY_AND_RESUME";
  const options = { reuse_outputs: req.reuse_outputs };
  const items: NewRerunItem[] = new Array(targets.length);
  const previews: Parameters<typeof addPreview>[1][] = new Array(targets.length);
  await mapLimit(targets, LIMITS.BULK_RERUN_PREVIEW_CONCURRENCY, async (t, i) => {
    const res = await executionClient(env, t.execution_id).previewRetrigger(
      principal.orgId,
      t.action_id,
      strategy,
      req.condition_id,
      options,
    );
    previews[i] = res.ok ? res.preview.totals : null;
    items[i] = res.ok
      ? { ...t, status: "pending", effects: res.preview.totals.effects, error: null }
      : { ...t, status: "refused", effects: 0, error: res.message.slice(0, 500) };
  });
  const preview = previews.reduce(addPreview, emptyPreview());

  const taskToken = randomToken(32);
  const id = newId();
  await insertBulkRerun(
    env.DB,
    {
      id,
      org_id: principal.orgId,
      flow_id: flow.id,
      created_by: principal.userId || principal.actor,
      task_token_hash: await sha256Hex(taskToken),
      filter,
      retry_strategy: strategy,
      from_action_id: req.from_action_id ?? null,
      reuse_outputs: req.reuse_outputs ?? [],
      preview,
      page_size: LIMITS.BULK_PAGE_SIZE,
      items_total: items.length,
      created_at: isoNow(),
    },
    items,
  );
  return { job: (await getBulkRerun(env.DB, principal.orgId, id))!, taskToken };
}

export async function requireBulkRerun(env: Env, orgId: string, id: string): Promise<BulkRerunRow> {
  const job = await getBulkRerun(env.DB, orgId, id);
  if (!job) throw notFound("Bulk rerun");
  return job;
}

/**
 * APPROVE or CANCEL with the job's task token: a wrong token is 403, a refused transition 409, and neither
 * changes anything. Approving sends the first page of retriggers; cancelling stops the items not yet sent and
 * cancels the reruns already started that have not ended.
 */
export async function patchBulkRerun(
  env: Env,
  orgId: string,
  id: string,
  action: "APPROVE" | "CANCEL",
  token: string,
): Promise<BulkRerunRow> {
  const job = await requireBulkRerun(env, orgId, id);
  if (!timingSafeEqual(await sha256Hex(token), job.task_token_hash)) throw forbidden("Invalid task token for this job");
  const decision = decideRerunPatch(job.status, action);
  if (!decision.ok) throw new AppError(409, "CONFLICT", decision.message);
  const now = isoNow();
  if (action === "APPROVE") {
    if (!(await approveBulkRerun(env.DB, orgId, id, now))) throw new AppError(409, "CONFLICT", "The job was already approved");
    await sendBulk(env, [bulkMessage({ type: "rerun", org_id: orgId, job_id: id, page: 0 })]);
  } else {
    if (!(await endBulkRerun(env.DB, orgId, id, "cancelled", null, now)))
      throw new AppError(409, "CONFLICT", "The job already ended");
    // Items not sent stop here (a page sending right now checks the job again after its retriggers).
    const pending = await rerunItemsIn(env.DB, id, { from: 0, to: Number.MAX_SAFE_INTEGER }, ["pending"]);
    await runRerunBatch(
      env.DB,
      moveRerunItems(
        env.DB,
        job,
        pending.map((i) => i.seq),
        ["pending"],
        "cancelled",
        "Bulk rerun cancelled",
        now,
      ),
    );
    if (job.status === "running")
      await sendBulk(env, [bulkMessage({ type: "rerun_cancel", org_id: orgId, job_id: id, after_seq: -1 })]);
  }
  return requireBulkRerun(env, orgId, id);
}
