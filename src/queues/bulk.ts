import { deferSeconds, ENTITY_NOT_FOUND, inFlight, pageCount, pageFits, seqRange } from "../engine/bulk-job";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { BulkMessageSchema, type BulkMessage, type EntityRefSchema } from "../schemas/bulk-jobs";
import { bulkMessage, BULK_QUEUE, selectionWhere, sendBulk, writeBulkReport } from "../services/bulk-jobs";
import { AdmissionRefused } from "../services/admission";
import { cancelExecution } from "../services/queued-executions";
import { deterministicId, startExecution } from "../services/executions";
import { toSnapshot } from "../services/records";
import {
  beginExecuting,
  endBulkJob,
  finishDispatching,
  getBulkJob,
  moveItems,
  pageItems,
  runBatch,
  storeLoadedPage,
  touchBulkJob,
  unfinishedItems,
  type BulkJobRow,
  type LoadedEntry,
} from "../store/bulk-jobs";
import { getFlow } from "../store/flows";
import { recordDeadLetter, recordQueueFailure } from "../store/queue-failures";
import { getRecordsByIds, queryRecordIds } from "../store/records";
import { handleDeadLetterBatch } from "./events";
import { processRerunMessage } from "./bulk-reruns";
import { endBulkRerun } from "../store/bulk-reruns";
import type { z } from "@hono/zod-openapi";

/**
 * The `bulk` queue consumer. Every message is one page of a job's work and is safe to process any
 * number of times, in any order, concurrently: loading pages advance the job by compare-and-set, items
 * move only out of the statuses a step expects, and execution ids derive from (job, record), so a
 * redelivered page or a consumer that died mid-page never skips a record nor starts one twice.
 *
 *   load (chained, one page after the other: keyset paging needs the previous page's last id)
 *   → execute (chained too: a page starts when the job's window has room for it — else it comes back
 *     after BULK_DEFER_SECONDS — and then sends the next page)
 *   → executions end on their own; the last one moves the job to send_report (ExecutionObject)
 *   → report.   cancel pages through the unfinished items of a cancelled job.
 */

type EntityRef = z.infer<typeof EntityRefSchema>;

/** Runs `fn` over `items`, at most `limit` at a time. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const bulkExecutionKey = (jobId: string, entityId: string) => `bulk:${jobId}:${entityId}`;

async function loadStep(env: Env, job: BulkJobRow, page: number, retried: boolean): Promise<void> {
  // A retried copy of the page just stored may come from a consumer that died before sending what follows
  // (the next page, or the execution pages after the last one): it sends that again. A plain duplicate
  // (first delivery) does not, so duplicates do not multiply along the chain.
  const justStored = retried && page === job.pages_processed - 1;
  if (job.status === "entities_loaded" || (job.status === "executing" && justStored && !job.has_more)) {
    return fanOut(env, job);
  }
  if (job.status !== "querying_entities") return;
  if (justStored) {
    return sendBulk(env, [bulkMessage({ type: "load", org_id: job.org_id, job_id: job.id, page: page + 1 })]);
  }
  if (page !== job.pages_processed) return; // a stale copy
  const size = job.load_page_size;
  let candidates: { id: string; schema: string | null }[];
  let hasMore: boolean;
  let searchAfter: string | null = null;
  if (job.query_type === "refs") {
    const refs = job.query_data as EntityRef[];
    candidates = refs
      .slice(job.total_processed, job.total_processed + size)
      .map((r) => ({ id: r.entity_id, schema: r.entity_schema }));
    hasMore = job.total_processed + candidates.length < refs.length;
  } else {
    const where = selectionWhere(job.query_type, job.query_data);
    candidates = await queryRecordIds(env.DB, job.org_id, where, job.search_after, size);
    hasMore = candidates.length === size;
    searchAfter = candidates.at(-1)?.id ?? job.search_after;
  }
  if (job.total_processed + candidates.length > LIMITS.MAX_BULK_RECORDS_PER_JOB) {
    const reason = `The selection grew beyond ${LIMITS.MAX_BULK_RECORDS_PER_JOB} records while loading`;
    await endBulkJob(env.DB, job.org_id, job.id, "failed", reason, isoNow());
    return;
  }
  const entries: LoadedEntry[] = await Promise.all(
    candidates.map(async (c) => ({
      entity_id: c.id,
      entity_schema: c.schema,
      // The id startExecution derives from the same key: known before the start, so a cancel can find it.
      execution_id: await deterministicId(job.org_id, job.flow_id, bulkExecutionKey(job.id, c.id)),
    })),
  );
  const advanced = await storeLoadedPage(env.DB, job, page, entries, { searchAfter, hasMore }, isoNow());
  if (!advanced) return;
  if (hasMore) await sendBulk(env, [bulkMessage({ type: "load", org_id: job.org_id, job_id: job.id, page: page + 1 })]);
  else await fanOut(env, (await getBulkJob(env.DB, job.org_id, job.id))!);
}

/** entities_loaded → executing, then the first execute page (sent again on a redelivery; each page sends the next). */
async function fanOut(env: Env, job: BulkJobRow): Promise<void> {
  await beginExecuting(env.DB, job.org_id, job.id, isoNow());
  const now = (await getBulkJob(env.DB, job.org_id, job.id))!;
  if (now.status === "send_report") return writeBulkReport(env, now);
  if (now.status !== "executing") return;
  await sendBulk(env, [bulkMessage({ type: "execute", org_id: now.org_id, job_id: now.id, page: 0 })]);
}

/** The execute page after `page`, if there is one. */
async function sendNextPage(env: Env, job: BulkJobRow, page: number): Promise<void> {
  if (page + 1 >= pageCount(job.total_processed, job.page_size)) return;
  await sendBulk(env, [bulkMessage({ type: "execute", org_id: job.org_id, job_id: job.id, page: page + 1 })]);
}

async function executeStep(env: Env, job: BulkJobRow, page: number, retried: boolean, deferrals = 0): Promise<void> {
  const db = env.DB;
  const range = seqRange(page, job.page_size);
  if (job.status === "cancelled") return cancelStarting(env, job, range);
  if (job.status !== "executing") return;
  const items = await pageItems(db, job.id, range, ["pending", "starting"]);
  if (items.length && !pageFits(inFlight(job), items.length, LIMITS.BULK_MAX_IN_FLIGHT)) {
    // The window is full: this page comes back later (a new message, so waiting uses none of its retries),
    // waiting longer each time, so a window held by slow executions (retries backing off) is not polled hard.
    const delay = deferSeconds(deferrals, LIMITS.BULK_DEFER_SECONDS, LIMITS.BULK_DEFER_MAX_SECONDS);
    const again = bulkMessage({ type: "execute", org_id: job.org_id, job_id: job.id, page, deferrals: deferrals + 1 });
    await sendBulk(env, [again], delay);
    // The chain is alive: the reconciliation, which resends the page of a job that stopped changing, leaves it be.
    return touchBulkJob(db, job.org_id, job.id, isoNow());
  }
  // A page already done sends the next one only when retried: the consumer that did it may have died
  // before sending it, while a plain duplicate must not start a second chain of pages.
  const sendsNext = items.length > 0 || retried;
  const errors: unknown[] = [];
  const started: string[] = [];
  if (items.length) {
    const ids = items.map((i) => i.entity_id);
    // Marked before any start: a cancel that comes now knows these may be starting.
    await runBatch(db, moveItems(db, job.org_id, job.id, ids, ["pending"], "starting", null, isoNow()));
    const flow = await getFlow(db, job.org_id, job.flow_id);
    const problem = !flow ? `Flow ${job.flow_id} was deleted` : null;
    const records = new Map((problem ? [] : await getRecordsByIds(db, job.org_id, ids)).map((r) => [r.id, r]));
    const failed = new Map<string, string[]>();
    const fail = (id: string, error: string) => failed.set(error, [...(failed.get(error) ?? []), id]);
    const toStart: typeof items = [];
    for (const item of items) {
      const rec = records.get(item.entity_id);
      if (problem) fail(item.entity_id, problem);
      // A ref names its schema: a record of another schema is not the one meant (as in the records API).
      else if (!rec || (item.entity_schema !== null && rec.schema !== item.entity_schema)) fail(item.entity_id, ENTITY_NOT_FOUND);
      else toStart.push(item);
    }
    await mapLimit(toStart, LIMITS.BULK_START_CONCURRENCY, async (item) => {
      try {
        const rec = records.get(item.entity_id)!;
        const res = await startExecution(env, {
          orgId: job.org_id,
          flow: flow!,
          entityId: rec.id,
          entity: toSnapshot(rec),
          triggerEvent: {
            type: "bulk",
            org_id: job.org_id,
            bulk_job_id: job.id,
            entity_id: rec.id,
            entity_schema: rec.schema,
            trigger_context: job.trigger_context ?? {},
            caller: { actor: job.created_by },
          },
          dedupeKey: bulkExecutionKey(job.id, rec.id),
        });
        if (res.id !== item.execution_id) throw new Error(`Execution id mismatch for ${rec.id}`);
        started.push(rec.id);
      } catch (err) {
        // Admission's refusal (a flow disabled since the approval) fails the item with its message, for good.
        if (err instanceof AdmissionRefused) fail(item.entity_id, err.message);
        else errors.push(err);
      }
    });
    const now = isoNow();
    const from = ["pending", "starting"] as const;
    await runBatch(db, [
      ...moveItems(db, job.org_id, job.id, started, from, "in_progress", null, now),
      ...[...failed].flatMap(([error, list]) => moveItems(db, job.org_id, job.id, list, from, "failed", error, now)),
    ]);
  }
  const status = await finishDispatching(db, job.org_id, job.id, isoNow());
  // Cancelled while this page was starting: what it started is cancelled now (the cancel step could not see it yet).
  if (status === "cancelled") await cancelExecutions(env, job, started);
  if (errors.length) throw errors[0]; // retried: the items still `starting` are started again, with the same ids
  if (sendsNext && status === "executing") await sendNextPage(env, job, page);
  if (status === "send_report") await writeBulkReport(env, (await getBulkJob(db, job.org_id, job.id))!);
}

async function cancelExecutions(env: Env, job: BulkJobRow, entityIds: string[]): Promise<void> {
  const ids = entityIds.map((id) => deterministicId(job.org_id, job.flow_id, bulkExecutionKey(job.id, id)));
  await mapLimit(ids, LIMITS.BULK_START_CONCURRENCY, async (id) => {
    await cancelExecution(env, job.org_id, await id, `Bulk job ${job.id} was cancelled`);
  });
}

/** A cancelled job's page that a consumer was starting when it died: cancel what started, settle the rest. */
async function cancelStarting(env: Env, job: BulkJobRow, range: { from: number; to: number }): Promise<void> {
  const items = await pageItems(env.DB, job.id, range, ["starting"]);
  const never: string[] = [];
  await mapLimit(items, LIMITS.BULK_START_CONCURRENCY, async (item) => {
    const res = await cancelExecution(env, job.org_id, item.execution_id, `Bulk job ${job.id} was cancelled`);
    if (!res.ok && res.status === 404) never.push(item.entity_id);
  });
  await runBatch(env.DB, moveItems(env.DB, job.org_id, job.id, never, ["starting"], "cancelled", "Bulk job cancelled", isoNow()));
}

/** One page of a cancelled job's unfinished items: items never started end here, started executions are cancelled. */
async function cancelStep(env: Env, job: BulkJobRow, afterSeq: number): Promise<void> {
  if (job.status !== "cancelled") return;
  const items = await unfinishedItems(env.DB, job.id, afterSeq, job.page_size);
  const pending = items.filter((i) => i.execution_status === "pending").map((i) => i.entity_id);
  await runBatch(
    env.DB,
    moveItems(env.DB, job.org_id, job.id, pending, ["pending"], "cancelled", "Bulk job cancelled", isoNow()),
  );
  // A `starting` item without an object is being started right now: its starter cancels it (executeStep).
  // An execution waiting for a slot of the flow's concurrency_limit leaves the queue (cancelExecution).
  const running = items.filter((i) => i.execution_status !== "pending");
  await mapLimit(running, LIMITS.BULK_START_CONCURRENCY, async (item) => {
    await cancelExecution(env, job.org_id, item.execution_id, `Bulk job ${job.id} was cancelled`);
  });
  if (items.length === job.page_size) {
    await sendBulk(env, [bulkMessage({ type: "cancel", org_id: job.org_id, job_id: job.id, after_seq: items.at(-1)!.seq })]);
  }
}

/** Processes one bulk message (idempotent; see above). Exported for tests, which drive jobs page by page. */
export async function processBulkMessage(env: Env, msg: BulkMessage, attempts = 1): Promise<void> {
  // Bulk reruns share the queue (queues/bulk-reruns.ts).
  if (msg.type === "rerun" || msg.type === "rerun_cancel") return processRerunMessage(env, msg, attempts);
  const job = await getBulkJob(env.DB, msg.org_id, msg.job_id);
  if (!job) return;
  switch (msg.type) {
    case "load":
      return loadStep(env, job, msg.page, attempts > 1);
    case "execute":
      return executeStep(env, job, msg.page, attempts > 1, msg.deferrals);
    case "cancel":
      return cancelStep(env, job, msg.after_seq);
    case "report":
      return writeBulkReport(env, job);
  }
}

export async function handleBulkBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Pages are independent: a batch's messages run side by side, and one failing is retried alone.
  await Promise.all(
    batch.messages.map(async (msg) => {
      const parsed = BulkMessageSchema.safeParse(msg.body);
      const key = parsed.success ? parsed.data.id : msg.id;
      if (!parsed.success) {
        const reason = `Invalid bulk message: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
        await recordQueueFailure(env.DB, BULK_QUEUE, key, null, msg.attempts, reason);
        await recordDeadLetter(env.DB, BULK_QUEUE, key, null, msg.body, msg.attempts, reason);
        msg.ack();
        return;
      }
      try {
        await processBulkMessage(env, parsed.data, msg.attempts);
        msg.ack();
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await recordQueueFailure(env.DB, BULK_QUEUE, key, parsed.data.org_id, msg.attempts, reason).catch(() => undefined);
        msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
      }
    }),
  );
}

/** The bulk dead-letter queue: the job whose page gave up fails (saying which page), then the message is recorded. */
export async function handleBulkDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const parsed = BulkMessageSchema.safeParse(msg.body);
    if (!parsed.success) continue;
    const m = parsed.data;
    const reason = `A ${m.type} message of the job gave up after the queue's retries (${m.id})`;
    if (m.type === "rerun" || m.type === "rerun_cancel")
      await endBulkRerun(env.DB, m.org_id, m.job_id, "failed", reason, isoNow());
    else await endBulkJob(env.DB, m.org_id, m.job_id, "failed", reason, isoNow());
  }
  await handleDeadLetterBatch(batch, env, BULK_QUEUE);
}
