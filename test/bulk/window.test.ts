import { createScheduledController, env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { deferSeconds, inFlight, pageFits } from "../../src/engine/bulk-job";
import worker from "../../src/index";
import { LIMITS } from "../../src/lib/limits";
import { processBulkMessage } from "../../src/queues/bulk";
import { bulkMessage, patchBulkJob } from "../../src/services/bulk-jobs";
import { executionClient } from "../../src/services/object-clients";
import { reconcileBulkJobs, STALE_BULK_JOB_MS } from "../../src/services/reconcile-bulk-jobs";
import { bulkItemStatements } from "../../src/store/bulk-jobs";
import { SINK, createFlow, sinkRequests, sinkReset } from "../support/engine";
import {
  capturingEnv,
  createJob,
  executionRows,
  getJob,
  jobRow,
  runJob,
  seedRecords,
  settleExecutions,
  uniqueSchema,
} from "./support";

/** The window and page size of these tests, small so that a few dozen records fill several pages. */
const limits = LIMITS as unknown as { BULK_MAX_IN_FLIGHT: number; BULK_PAGE_SIZE: number };
const saved = { window: LIMITS.BULK_MAX_IN_FLIGHT, page: LIMITS.BULK_PAGE_SIZE };
beforeEach(async () => {
  await sinkReset();
  limits.BULK_MAX_IN_FLIGHT = 20;
  limits.BULK_PAGE_SIZE = 10;
});
afterEach(() => {
  limits.BULK_MAX_IN_FLIGHT = saved.window;
  limits.BULK_PAGE_SIZE = saved.page;
});

/** A job of `count` records with a one-action flow, approved and loaded; returns the first execute page. */
async function loadedJob(name: string, count: number, actions: unknown[]) {
  const schema = uniqueSchema(name);
  const flow = await createFlow({ flow_name: name, actions });
  await seedRecords(schema, count);
  const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
  const q = capturingEnv();
  await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
  await processBulkMessage(q.env, q.sent.shift()!);
  const [page0] = q.sent.splice(0);
  expect(page0).toMatchObject({ type: "execute", page: 0 });
  return { jobId: job.job_id as string, token, q, page0 };
}

describe("the window of executions in flight (pure)", () => {
  it("in flight = dispatched − finished − waiting; a page fits if the window has room for all of it, or is empty", () => {
    expect(inFlight({ items_dispatched: 30, items_finished: 5, items_waiting: 10 })).toBe(15);
    expect(inFlight({ items_dispatched: 3, items_finished: 3, items_waiting: 0 })).toBe(0);
    expect(pageFits(10, 10, 20)).toBe(true);
    expect(pageFits(11, 10, 20)).toBe(false);
    expect(pageFits(0, 500, 20)).toBe(true); // a page larger than the window still starts alone
  });

  it("a page waits the first delay a few times, then twice as long each time, up to the cap", () => {
    expect(Array.from({ length: 11 }, (_, n) => deferSeconds(n, 2, 30))).toEqual([2, 2, 2, 2, 2, 4, 8, 16, 30, 30, 30]);
    expect(deferSeconds(10_000, 2, 30)).toBe(30);
  });
});

describe("bulk jobs start their executions through a window", () => {
  it(
    "a page that finds the window full comes back later (a delayed copy, not a retry) and starts once executions ended",
    { timeout: 60_000 },
    async () => {
      // Each execution holds its room for ~1.5 s: its webhook answers slowly.
      const path = "/slow/1500";
      const { jobId, q, page0 } = await loadedJob("win", 35, [
        { id: "a", type: "call_webhook", config: { url: `${SINK}${path}` } },
      ]);

      await processBulkMessage(q.env, page0); // 10 in flight
      const [page1] = q.sent.splice(0);
      expect(page1).toMatchObject({ type: "execute", page: 1 });
      await processBulkMessage(q.env, page1); // 20 in flight: the window is full
      const [page2] = q.sent.splice(0);
      expect(page2).toMatchObject({ type: "execute", page: 2 });
      expect(inFlight(await jobRow(jobId))).toBe(20);

      await processBulkMessage(q.env, page2);
      const [deferred] = q.sent.splice(0);
      expect(deferred).toMatchObject({ type: "execute", page: 2 });
      expect(q.delays.get(deferred)).toBe(LIMITS.BULK_DEFER_SECONDS);
      expect(deferred).toMatchObject({ deferrals: 1 }); // the next wait is counted from here
      // A deferring chain is alive: the reconciliation, a quiet period after the last deferral, resends nothing.
      const deferredAt = Date.parse((await jobRow(jobId)).updated_at);
      expect((await reconcileBulkJobs(q.env, deferredAt + STALE_BULK_JOB_MS - 1000)).resent).toEqual([]);
      expect(q.sent).toHaveLength(0);
      expect(await executionRows(jobId)).toHaveLength(20); // page 2 started nothing
      expect((await getJob(jobId)).counts).toMatchObject({ total: 35, dispatched: 20, pending: 15 });

      await settleExecutions(jobId); // the 20 end: the window is empty
      expect(inFlight(await jobRow(jobId))).toBe(0);
      await processBulkMessage(q.env, deferred);
      expect(await executionRows(jobId)).toHaveLength(30);
      expect(q.sent.splice(0)).toMatchObject([{ type: "execute", page: 3 }]);

      const done = await runJob(jobId);
      expect(done.status).toBe("finished");
      const rows = await executionRows(jobId);
      expect(rows).toHaveLength(35);
      expect(rows.every((r) => r.status === "success")).toBe(true);
      expect(await sinkRequests(path)).toHaveLength(35);
    },
  );

  it(
    "waiting executions (a delay) hold no room: every page starts at once, and a cancel ends the waiting items",
    { timeout: 60_000 },
    async () => {
      const { jobId, q, page0, token } = await loadedJob("win-wait", 35, [
        { id: "d", type: "delay", config: { duration: 2, unit: "days" } },
        { id: "a", type: "call_webhook", config: { url: `${SINK}/win-wait` } },
      ]);
      for (let m: typeof page0 | undefined = page0; m; m = q.sent.shift()) {
        expect(q.delays.get(m)).toBeUndefined(); // never deferred
        await processBulkMessage(q.env, m);
        await settleExecutions(jobId); // each execution reaches its delay: scheduled
      }
      const row = await jobRow(jobId);
      expect(row).toMatchObject({ status: "monitoring", items_dispatched: 35, items_waiting: 35, items_finished: 0 });
      expect((await getJob(jobId)).counts).toMatchObject({ total: 35, waiting: 35, scheduled: 35 });

      await patchBulkJob(q.env, "org-a", jobId, "CANCEL", token);
      for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);
      expect(await jobRow(jobId)).toMatchObject({ status: "cancelled", items_waiting: 0, items_finished: 35 });
      expect((await getJob(jobId)).counts).toMatchObject({ total: 35, waiting: 0, cancelled: 35 });
    },
  );

  it("an item follows its execution through waits, each change counted once however often it is replayed", async () => {
    const { jobId, q, page0 } = await loadedJob("win-replay", 3, [
      { id: "d", type: "delay", config: { duration: 1, unit: "days" } },
    ]);
    await processBulkMessage(q.env, page0);
    await settleExecutions(jobId);
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 3, items_dispatched: 3 });
    const [first] = await executionRows(jobId);
    const { state } = (await executionClient(env as unknown as Env, first.id).snapshot("org-a"))!;
    const item = async () =>
      (await env.DB.prepare(`SELECT execution_status FROM bulk_job_items WHERE job_id = ? AND execution_id = ?`)
        .bind(jobId, first.id)
        .first<{
          execution_status: string;
        }>())!.execution_status;
    const replay = async (status: string) => {
      await env.DB.batch(bulkItemStatements(env.DB, { ...state, status } as typeof state));
      await env.DB.batch(bulkItemStatements(env.DB, { ...state, status } as typeof state));
    };

    await replay("scheduled"); // the wait it is in, again: nothing changes
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 3, items_dispatched: 3 });
    await replay("in_progress"); // running again: back in the window, once
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 2 });
    expect(await item()).toBe("in_progress");
    await replay("paused"); // waiting again
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 3 });
    await replay("scheduled"); // from one wait to another: only the status changes
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 3 });
    expect(await item()).toBe("scheduled");
    await replay("success"); // ends while waiting: finished, no longer waiting
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 2, items_finished: 1, items_dispatched: 3 });
    expect(await item()).toBe("success");
    await replay("in_progress"); // a stale summary after the end changes nothing
    expect(await jobRow(jobId)).toMatchObject({ items_waiting: 2, items_finished: 1 });
    expect(await item()).toBe("success");
  });
});

describe("the reconciliation of bulk jobs", () => {
  it("a job left in send_report without its report message gets it from the scheduled handler", { timeout: 60_000 }, async () => {
    const { jobId, q, page0 } = await loadedJob("rec-report", 3, [
      { id: "a", type: "call_webhook", config: { url: `${SINK}/rec` } },
    ]);
    await processBulkMessage(q.env, page0);
    await settleExecutions(jobId);
    // The crash: the last execution moved the job to send_report and died before sending the report message.
    expect(await jobRow(jobId)).toMatchObject({ status: "send_report", report_file_entity_id: null });
    q.sent.splice(0);

    // Not yet stale: nothing is sent.
    const now = Date.now();
    expect((await reconcileBulkJobs(q.env, now)).resent).toEqual([]);
    const later = now + STALE_BULK_JOB_MS + 1000;
    expect((await reconcileBulkJobs(q.env, later)).resent).toEqual([{ job_id: jobId, message: "report" }]);
    expect(q.sent.splice(0)).toMatchObject([{ type: "report", job_id: jobId }]);
    // Looked at just now: the next run leaves it alone for another quiet period.
    expect((await reconcileBulkJobs(q.env, later + 60_000)).resent).toEqual([]);

    // The real scheduled handler sends it through the bulk queue; delivered, it finishes the job.
    await env.DB.prepare(`UPDATE bulk_jobs SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?`).bind(jobId).run();
    const ctl = createScheduledController({ scheduledTime: later, cron: "* * * * *" });
    await worker.scheduled!(ctl, env as unknown as Env, undefined as unknown as ExecutionContext);
    await processBulkMessage(q.env, bulkMessage({ type: "report", org_id: "org-a", job_id: jobId }));
    const done = await jobRow(jobId);
    expect(done.status).toBe("finished");
    expect(done.report_file_entity_id).toBeTruthy();
  });

  it("an executing job whose chain of pages stopped gets its first unstarted page again", { timeout: 60_000 }, async () => {
    const { jobId, q, page0 } = await loadedJob("rec-exec", 25, [
      { id: "a", type: "call_webhook", config: { url: `${SINK}/rec2` } },
    ]);
    await processBulkMessage(q.env, page0);
    q.sent.splice(0); // page 1 is lost
    await settleExecutions(jobId);
    expect(await jobRow(jobId)).toMatchObject({ status: "executing", items_dispatched: 10 });
    const later = Date.now() + STALE_BULK_JOB_MS + 1000;
    expect((await reconcileBulkJobs(q.env, later)).resent).toEqual([{ job_id: jobId, message: "execute" }]);
    expect(q.sent.splice(0)).toMatchObject([{ type: "execute", job_id: jobId, page: 1 }]);
    const done = await runJob(jobId);
    expect(done.status).toBe("finished");
    expect(await executionRows(jobId)).toHaveLength(25);
  });

  it("a job whose next load page was lost gets it again, and loads to the end", { timeout: 60_000 }, async () => {
    const limits2 = LIMITS as unknown as { BULK_LOAD_PAGE_SIZE: number };
    const savedLoad = limits2.BULK_LOAD_PAGE_SIZE;
    limits2.BULK_LOAD_PAGE_SIZE = 10;
    try {
      const schema = uniqueSchema("rec-load");
      const flow = await createFlow({
        flow_name: "rec-load",
        actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/rl` } }],
      });
      await seedRecords(schema, 25);
      const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
      const q = capturingEnv();
      await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
      await processBulkMessage(q.env, q.sent.shift()!); // load page 0
      expect(q.sent.splice(0)).toMatchObject([{ type: "load", page: 1 }]); // lost
      expect(await jobRow(job.job_id)).toMatchObject({ status: "querying_entities", pages_processed: 1 });
      const later = Date.now() + STALE_BULK_JOB_MS + 1000;
      expect((await reconcileBulkJobs(q.env, later)).resent).toEqual([{ job_id: job.job_id, message: "load" }]);
      const [again] = q.sent.splice(0);
      expect(again).toMatchObject({ type: "load", page: 1 });
      await processBulkMessage(q.env, again);
      const done = await runJob(job.job_id);
      expect(done.status).toBe("finished");
      expect(await executionRows(job.job_id)).toHaveLength(25);
    } finally {
      limits2.BULK_LOAD_PAGE_SIZE = savedLoad;
    }
  });
});
