import { pageOfSeq } from "../engine/bulk-job";
import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { firstUnstartedSeq, getBulkJob, listStaleBulkJobs, touchBulkJob } from "../store/bulk-jobs";
import { bulkMessage, sendBulk } from "./bulk-jobs";

/** A job in `executing` or `send_report` that has not changed for this long is given its next message again. */
export const STALE_BULK_JOB_MS = 10 * 60_000;
/** Most jobs looked at per scheduled run. */
export const BULK_RECONCILE_BATCH = 50;

export interface BulkReconcileReport {
  resent: { job_id: string; message: "execute" | "report" }[];
}

/**
 * The per-minute safety net of bulk jobs. Every step is driven by a queue message or by an execution's
 * end, and each is retried by the queue; this covers what a crash between two writes could still leave
 * behind: a job in `send_report` whose report message was never sent (the execution that moved it there
 * died right after its D1 batch), or a job in `executing` whose chain of execute pages stopped. Sending
 * the message again is always safe: every bulk step is idempotent.
 */
export async function reconcileBulkJobs(env: Env, now: number): Promise<BulkReconcileReport> {
  const report: BulkReconcileReport = { resent: [] };
  const stale = await listStaleBulkJobs(env.DB, isoNow(now - STALE_BULK_JOB_MS), BULK_RECONCILE_BATCH);
  for (const row of stale) {
    if (row.status === "send_report") {
      await sendBulk(env, [bulkMessage({ type: "report", org_id: row.org_id, job_id: row.id })]);
      report.resent.push({ job_id: row.id, message: "report" });
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
  return report;
}
