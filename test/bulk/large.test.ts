import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { SINK, createFlow, sinkRequests, sinkReset } from "../support/engine";
import { processBulkMessage } from "../../src/queues/bulk";
import { patchBulkJob } from "../../src/services/bulk-jobs";
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

beforeEach(sinkReset);

describe("a bulk job of 2,500 records", () => {
  it("reaches finished with one execution per record, a correct summary and report", { timeout: 600_000 }, async () => {
    const schema = uniqueSchema("big");
    const path = `/big/${schema}`;
    const flow = await createFlow({
      flow_name: "big",
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}${path}` } }],
    });
    const ids = await seedRecords(schema, 2500);
    const { job, token } = await createJob({
      flow_id: flow.id,
      entities_query: `_schema:${schema}`,
      trigger_context: { run: "big" },
    });
    const gone = ids.filter((_, i) => i % 100 === 99);

    // Approved with a capturing queue, so this test alone delivers the pages (the background consumer
    // would run every page a second time: harmless, see redelivery.test.ts, but twice the work).
    const began = Date.now();
    const q = capturingEnv();
    await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
    let deferred = 0;
    while (q.sent[0]?.type === "load") await processBulkMessage(q.env, q.sent.shift()!);
    // Every 100th record is deleted after it was selected: reported as a failed item, not dropped.
    expect(await jobRow(job.job_id)).toMatchObject({ status: "executing", items_total: 2500 });
    await env.DB.prepare(`DELETE FROM records WHERE id IN (SELECT value FROM json_each(?))`).bind(JSON.stringify(gone)).run();
    for (let m = q.sent.shift(); m; m = q.sent.shift()) {
      // A page deferred by the full window: the queue would bring it back in BULK_DEFER_SECONDS; here the
      // executions in flight are driven to their end first, which is what makes room.
      if (q.delays.has(m)) {
        deferred++;
        await settleExecutions(job.job_id);
      }
      await processBulkMessage(q.env, m);
    }
    const end = await runJob(job.job_id);
    const seconds = (Date.now() - began) / 1000;
    console.log(`bulk job of 2,500 records: approve → ${end.status} in ${seconds.toFixed(1)} s (${deferred} pages deferred)`);
    expect(deferred).toBeGreaterThan(0); // 25 pages of 100 through a window of 300: pages had to wait
    expect(end.status).toBe("finished");

    const rows = await executionRows(job.job_id);
    expect(rows).toHaveLength(2475);
    expect(new Set(rows.map((r) => r.entity_id)).size).toBe(2475);
    expect(rows.every((r) => r.status === "success")).toBe(true);
    expect((await sinkRequests(path)).length).toBe(2475);

    const view = await getJob(job.job_id, "?summary_size=1000");
    expect(view.counts).toEqual({ total: 2500, dispatched: 2500, finished: 2500, waiting: 0, success: 2475, failed: 25 });
    expect(view.pagination_state).toMatchObject({
      page_size: 100,
      load_page_size: 1000,
      pages_processed: 3,
      total_processed: 2500,
      has_more: false,
    });
    let summary = view.execution_summary;
    let next = view.execution_summary_paging.next_from;
    while (next !== null) {
      const page = await getJob(job.job_id, `?summary_size=1000&summary_from=${next}`);
      summary = summary.concat(page.execution_summary);
      next = page.execution_summary_paging.next_from;
    }
    expect(summary.map((i: any) => i.entity_id)).toEqual(ids);
    const execIds = new Map(rows.map((r) => [r.entity_id, r.id]));
    const failed = summary.filter((i: any) => i.execution_status === "failed");
    expect(failed.map((i: any) => i.entity_id)).toEqual(gone);
    expect(failed.every((i: any) => i.error === "entity not found")).toBe(true);
    const ok = summary.filter((i: any) => i.execution_status === "success");
    expect(ok.every((i: any) => i.execution_id === execIds.get(i.entity_id))).toBe(true);

    const report = await env.DB.prepare(`SELECT data FROM records WHERE id = ?`)
      .bind(end.report_file_entity_id)
      .first<{ data: string }>();
    const data = JSON.parse(report!.data);
    expect(data).toMatchObject({
      total: 2500,
      status_counts: { success: 2475, failed: 25 },
      failed_items_total: 25,
      failed_items_truncated: false,
    });
    expect(data.failed_items.map((i: any) => i.entity_id)).toEqual(gone);
  });
});
