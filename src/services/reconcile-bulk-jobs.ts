import { pageOfSeq } from "../engine/bulk-job";
import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { firstUnstartedSeq, getBulkJob, listStaleBulkJobs, touchBulkJob, type StaleBulkJob } from "../store/bulk-jobs";
import { LIMITS } from "../lib/limits";
import {
  finishBulkRerunIfDone,
  firstPendingRerunSeq,
  getBulkRerun,
  listStaleBulkReruns,
  touchBulkRerun,
} from "../store/bulk-reruns";
import { bulkMessage, sendBulk } from "./bulk-jobs";
import { runStep, type ReconcileError } from "./reconcile-step";

/**
 * A job loading, executing or in `send_report` that has not changed for this long is given its next
 * message again. Every step of a live job writes the job row (a page loaded or started, an execution
 * ended, a page deferred for want of room), far more often than this. (LIMITS.STALE_BULK_JOB_MS.)
 */
export const STALE_BULK_JOB_MS = LIMITS.STALE_BULK_JOB_MS;

export interface BulkReconcileReport {
  resent: { job_id: string; message: "load" | "execute" | "report" | "rerun" }[];
  /** Jobs whose message could not be sent again (retried next run); the other jobs were handled all the same. */
  errors: ReconcileError[];
}

/**
 * The per-minute safety net of bulk jobs. Every step is driven by a queue message or by an execution's
 * end, and each is retried by the queue; this covers what a crash between two writes could still leave
 * behind — a message lost, or a consumer that died between its write and its send: a job in `send_report`
 * whose report message was never sent (the execution that moved it there died right after its D1 batch),
 * a job in `executing` whose chain of execute pages stopped, or a job still loading whose next load page
 * never came. Sending the message again is always safe: every bulk step is idempotent.
 */
export async function reconcileBulkJobs(env: Env, now: number): Promise<BulkReconcileReport> {
  const report: BulkReconcileReport = { resent: [], errors: [] };
  const stale = await listStaleBulkJobs(env.DB, isoNow(now - STALE_BULK_JOB_MS), LIMITS.BULK_RECONCILE_BATCH);
  for (const row of stale) await runStep(report.errors, "bulk_jobs", () => resendNext(env, now, row, report), row.id);
  const reruns = await listStaleBulkReruns(env.DB, isoNow(now - STALE_BULK_JOB_MS), LIMITS.BULK_RECONCILE_BATCH);
  for (const row of reruns) await runStep(report.errors, "bulk_reruns", () => resendRerun(env, now, row, report), row.id);
  return report;
}

/**
 * A running bulk rerun that stopped changing lost the message carrying its chain of pages: the page of its
 * first item not yet retriggered is sent again (retriggers carry their item's key: a repeat applies nothing).
 */
async function resendRerun(
  env: Env,
  now: number,
  row: { id: string; org_id: string },
  report: BulkReconcileReport,
): Promise<void> {
  const job = await getBulkRerun(env.DB, row.org_id, row.id);
  const seq = job ? await firstPendingRerunSeq(env.DB, row.id) : null;
  if (job && seq !== null) {
    await sendBulk(env, [
      bulkMessage({ type: "rerun", org_id: row.org_id, job_id: row.id, page: pageOfSeq(seq, job.page_size) }),
    ]);
    report.resent.push({ job_id: row.id, message: "rerun" });
  } else if (job) {
    await finishBulkRerunIfDone(env.DB, row.org_id, row.id, isoNow(now));
  }
  await touchBulkRerun(env.DB, row.org_id, row.id, isoNow(now));
}

/** Sends the next message of one stalled job and touches it, so it is looked at again only if it stays stalled. */
async function resendNext(env: Env, now: number, row: StaleBulkJob, report: BulkReconcileReport): Promise<void> {
  if (row.status === "send_report") {
    await sendBulk(env, [bulkMessage({ type: "report", org_id: row.org_id, job_id: row.id })]);
    report.resent.push({ job_id: row.id, message: "report" });
  } else if (row.status === "querying_entities" || row.status === "entities_loaded") {
    // The next page to load (a loaded job takes any load message as its cue to fan out).
    const job = await getBulkJob(env.DB, row.org_id, row.id);
    if (job) {
      await sendBulk(env, [bulkMessage({ type: "load", org_id: row.org_id, job_id: row.id, page: job.pages_processed })]);
      report.resent.push({ job_id: row.id, message: "load" });
    }
  } else {
    // Executing with nothing moving: every started execution may be waiting (a long delay) and the
    // chain of pages may still be alive, deferring; a second copy of the next page is harmless.
    const seq = await firstUnstartedSeq(env.DB, row.id);
    const job = seq === null ? null : await getBulkJob(env.DB, row.org_id, row.id);
    if (job && seq !== null) {
      await sendBulk(env, [
        bulkMessage({ type: "execute", org_id: row.org_id, job_id: row.id, page: pageOfSeq(seq, job.page_size) }),
      ]);
      report.resent.push({ job_id: row.id, message: "execute" });
    }
  }
  await touchBulkJob(env.DB, row.org_id, row.id, isoNow(now));
}
