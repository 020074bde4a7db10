import { seqRange, pageCount } from "../engine/bulk-job";
import type { RetryStrategy } from "../engine/execution/types";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { bulkMessage, sendBulk } from "../services/bulk-jobs";
import { executionClient } from "../services/object-clients";
import { cancelExecution } from "../services/queued-executions";
import {
  finishBulkRerunIfDone,
  getBulkRerun,
  moveRerunItems,
  rerunItemsIn,
  retriggeredItems,
  runRerunBatch,
  type BulkRerunRow,
  type RerunItemRow,
} from "../store/bulk-reruns";

/**
 * The bulk rerun pages of the `bulk` queue (services/bulk-reruns.ts). Safe to process any number of times:
 * items move only out of the statuses a step expects, and each retrigger carries the key of its item
 * (`bulk-rerun:<job>:<seq>`), which an execution applies once however often it is sent.
 */

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const rerunKey = (job: BulkRerunRow, seq: number) => `bulk-rerun:${job.id}:${seq}`;
const cancelReason = (job: BulkRerunRow) => `Bulk rerun ${job.id} was cancelled`;

/** One page of retriggers: pending items are marked starting, retriggered, then marked with what the execution said. */
async function rerunPage(env: Env, job: BulkRerunRow, page: number, retried: boolean): Promise<void> {
  if (job.status !== "running") return;
  const db = env.DB;
  const items = await rerunItemsIn(db, job.id, seqRange(page, job.page_size), ["pending", "starting"]);
  // A page already done sends the next one only when retried (its first consumer may have died before sending it).
  const sendsNext = items.length > 0 || retried;
  const done: RerunItemRow[] = [];
  const refused = new Map<string, number[]>();
  const errors: unknown[] = [];
  if (items.length) {
    await runRerunBatch(
      db,
      moveRerunItems(
        db,
        job,
        items.map((i) => i.seq),
        ["pending"],
        "starting",
        null,
        isoNow(),
      ),
    );
    await mapLimit(items, LIMITS.BULK_START_CONCURRENCY, async (item) => {
      try {
        const res = await executionClient(env, item.execution_id).retrigger(
          job.org_id,
          item.action_id,
          job.retry_strategy as RetryStrategy,
          undefined,
          { reuse_outputs: job.reuse_outputs, rerun_key: rerunKey(job, item.seq) },
        );
        if (res.ok) done.push(item);
        else refused.set(res.message.slice(0, 500), [...(refused.get(res.message.slice(0, 500)) ?? []), item.seq]);
      } catch (err) {
        errors.push(err);
      }
    });
    const now = isoNow();
    await runRerunBatch(db, [
      ...moveRerunItems(
        db,
        job,
        done.map((i) => i.seq),
        ["starting"],
        "retriggered",
        null,
        now,
      ),
      ...[...refused].flatMap(([error, seqs]) => moveRerunItems(db, job, seqs, ["starting"], "failed", error, now)),
    ]);
  }
  const status = await finishBulkRerunIfDone(db, job.org_id, job.id, isoNow());
  // Cancelled while this page was sending: what it started is cancelled now (the cancel could not see it yet).
  if (status === "cancelled") await cancelItems(env, job, done);
  if (errors.length) throw errors[0]; // retried: items still `starting` are sent again, with the same keys
  if (sendsNext && status === "running" && page + 1 < pageCount(job.items_total, job.page_size)) {
    await sendBulk(env, [bulkMessage({ type: "rerun", org_id: job.org_id, job_id: job.id, page: page + 1 })]);
  }
}

async function cancelItems(env: Env, job: BulkRerunRow, items: RerunItemRow[]): Promise<void> {
  await mapLimit(items, LIMITS.BULK_START_CONCURRENCY, async (item) => {
    // An execution that already ended again answers 409: nothing to cancel.
    await cancelExecution(env, job.org_id, item.execution_id, cancelReason(job));
  });
}

/** One page of a cancelled job's reruns already sent: those still running are cancelled. */
async function cancelPage(env: Env, job: BulkRerunRow, afterSeq: number): Promise<void> {
  if (job.status !== "cancelled") return;
  const items = await retriggeredItems(env.DB, job.id, afterSeq, job.page_size);
  await cancelItems(env, job, items);
  if (items.length === job.page_size) {
    await sendBulk(env, [
      bulkMessage({ type: "rerun_cancel", org_id: job.org_id, job_id: job.id, after_seq: items.at(-1)!.seq }),
    ]);
  }
}

/** Processes one bulk rerun message (idempotent; see above). Exported for tests, which drive jobs page by page. */
export async function processRerunMessage(
  env: Env,
  msg:
    | { type: "rerun"; org_id: string; job_id: string; page: number }
    | { type: "rerun_cancel"; org_id: string; job_id: string; after_seq: number },
  attempts = 1,
): Promise<void> {
  const job = await getBulkRerun(env.DB, msg.org_id, msg.job_id);
  if (!job) return;
  if (msg.type === "rerun") return rerunPage(env, job, msg.page, attempts > 1);
  return cancelPage(env, job, msg.after_seq);
}
