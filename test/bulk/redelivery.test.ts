import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { bulkExecutionKey, processBulkMessage } from "../../src/queues/bulk";
import type { BulkMessage } from "../../src/schemas/bulk-jobs";
import { BULK_REPORT_SCHEMA, bulkMessage, patchBulkJob } from "../../src/services/bulk-jobs";
import { startExecution } from "../../src/services/executions";
import { executionClient } from "../../src/services/object-clients";
import { toSnapshot } from "../../src/services/records";
import { bulkItemStatements, moveItems, pageItems } from "../../src/store/bulk-jobs";
import { getFlow } from "../../src/store/flows";
import { getRecordsByIds } from "../../src/store/records";
import { SINK, createFlow, sinkRequests, sinkReset } from "../support/engine";
import { capturingEnv, createJob, executionRows, jobRow, runJob, seedRecords, settleExecutions, uniqueSchema } from "./support";

beforeEach(sinkReset);

/** A job over `count` fresh records with a one-webhook flow, approved; the load message is returned, not sent. */
async function approvedJob(name: string, count: number) {
  const schema = uniqueSchema(name);
  const path = `/rd/${schema}`;
  const flow = await createFlow({
    flow_name: name,
    actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}${path}` } }],
  });
  const ids = await seedRecords(schema, count);
  const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
  const q = capturingEnv();
  await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
  return { flow, ids, path, jobId: job.job_id as string, token, q, load: q.sent.shift()! };
}

const take = (q: { sent: BulkMessage[] }) => q.sent.splice(0);

/** The records whose executions reached the sink, with how many times each did. */
async function sinkHits(path: string): Promise<number> {
  return (await sinkRequests(path)).length;
}

describe("bulk jobs under redelivery: exactly one execution per record", () => {
  it("a load page delivered twice, and two copies at once, stores each record once and advances once", async () => {
    const { jobId, q, load, ids } = await approvedJob("rd-load", 40);
    await Promise.all([processBulkMessage(q.env, load), processBulkMessage(q.env, load)]);
    await processBulkMessage(q.env, load);
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: "executing", pages_processed: 1, total_processed: 40, items_total: 40 });
    const items = await pageItems(env.DB, jobId, { from: 0, to: 1000 }, ["pending"]);
    expect(items.map((i) => i.entity_id)).toEqual(ids);
    expect(items.map((i) => i.seq)).toEqual(ids.map((_, i) => i));
    // Only the copy that advanced the job fanned the page out.
    expect(take(q).map((m) => m.type)).toEqual(["execute"]);
  });

  it("an execute page delivered twice, and two copies at once: one execution per record, each run once", async () => {
    const { jobId, q, load, ids, path } = await approvedJob("rd-exec", 30);
    await processBulkMessage(q.env, load);
    const [page] = take(q);
    await Promise.all([processBulkMessage(q.env, page), processBulkMessage(q.env, page)]);
    await processBulkMessage(q.env, page);
    await settleExecutions(jobId);
    const rows = await executionRows(jobId);
    expect(rows.map((r) => r.entity_id).sort()).toEqual(ids);
    expect(await sinkHits(path)).toBe(30);
    expect((await runJob(jobId)).status).toBe("finished");
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ items_total: 30, items_dispatched: 30, items_finished: 30 });
  });

  it("a consumer that died mid-page (half started): the redelivered page starts only the rest", async () => {
    const { jobId, q, load, ids, path } = await approvedJob("rd-crash", 30);
    await processBulkMessage(q.env, load);
    const [page] = take(q);
    // What the consumer had done when it died: marked the page starting, started the first 15 records.
    const job = await jobRow(jobId);
    await env.DB.batch(moveItems(env.DB, "org-a", jobId, ids, ["pending"], "starting", null, new Date().toISOString()));
    const flow = (await getFlow(env.DB, "org-a", job.flow_id))!;
    const records = await getRecordsByIds(env.DB, "org-a", ids.slice(0, 15));
    const early = await Promise.all(
      records.map((r) =>
        startExecution(env as unknown as Env, {
          orgId: "org-a",
          flow,
          entityId: r.id,
          entity: toSnapshot(r) as unknown as Record<string, unknown>,
          triggerEvent: { type: "bulk", bulk_job_id: jobId, org_id: "org-a", entity_id: r.id },
          dedupeKey: bulkExecutionKey(jobId, r.id),
        }),
      ),
    );
    expect(early.every((e) => e.created)).toBe(true);

    await processBulkMessage(q.env, page, 2);
    await settleExecutions(jobId);
    const rows = await executionRows(jobId);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.entity_id)).size).toBe(30);
    expect(rows.filter((r) => early.some((e) => e.id === r.id))).toHaveLength(15);
    expect(await sinkHits(path)).toBe(30);
    expect((await runJob(jobId)).status).toBe("finished");
    expect(await jobRow(jobId)).toMatchObject({ items_dispatched: 30, items_finished: 30 });
  });

  it("a consumer that died after storing a load page, before sending the next: the retried copy sends it", async () => {
    const { jobId, q, ids } = await approvedJob("rd-chain", 1500); // two loading pages of 1000
    let failOnce = true;
    const flaky: Env = {
      ...q.env,
      BULK_QUEUE: {
        send: q.env.BULK_QUEUE.send,
        sendBatch: async (msgs: Iterable<MessageSendRequest<unknown>>) => {
          if (failOnce) {
            failOnce = false;
            throw new Error("crash before the send");
          }
          return q.env.BULK_QUEUE.sendBatch(msgs);
        },
      } as Queue<unknown>,
    };
    const load0 = bulkMessage({ type: "load", org_id: "org-a", job_id: jobId, page: 0 });
    await expect(processBulkMessage(flaky, load0)).rejects.toThrow("crash before the send");
    expect((await jobRow(jobId)).pages_processed).toBe(1);
    // A plain duplicate (first delivery) sends nothing more; the platform's retry (attempt 2) does.
    await processBulkMessage(flaky, load0, 1);
    expect(q.sent).toEqual([]);
    await processBulkMessage(flaky, load0, 2);
    const [load1] = take(q);
    expect(load1).toMatchObject({ type: "load", page: 1 });
    await processBulkMessage(flaky, load1);
    expect(await jobRow(jobId)).toMatchObject({ status: "executing", items_total: 1500, total_processed: 1500 });
    // Execute pages go one after the other: the first now, each page sends the next.
    expect(take(q).map((m) => m.type === "execute" && m.page)).toEqual([0]);
    // The last page retried (a consumer that died before sending the first execute page) sends it again.
    await processBulkMessage(flaky, load1, 2);
    expect(take(q).map((m) => m.type === "execute" && m.page)).toEqual([0]);
    const all = await pageItems(env.DB, jobId, { from: 0, to: 2000 }, ["pending"]);
    expect(all.map((i) => i.entity_id)).toEqual(ids);
  });

  it("a consumer that died mid-page, then the job was cancelled: what it started is cancelled, the rest never starts", async () => {
    const { jobId, q, load, ids, token } = await approvedJob("rd-cancel", 20);
    await processBulkMessage(q.env, load);
    const [page] = take(q);
    const job = await jobRow(jobId);
    await env.DB.batch(moveItems(env.DB, "org-a", jobId, ids, ["pending"], "starting", null, new Date().toISOString()));
    const flow = (await getFlow(env.DB, "org-a", job.flow_id))!;
    // Started, and still running (a paused action keeps it unfinished).
    const paused = { ...flow, actions: [{ id: "w", type: "custom-action", config: { wait_for_callback: true } }] } as typeof flow;
    const started = await Promise.all(
      ids.slice(0, 5).map((id) =>
        startExecution(env as unknown as Env, {
          orgId: "org-a",
          flow: paused,
          entityId: id,
          entity: null,
          triggerEvent: { type: "bulk", bulk_job_id: jobId, org_id: "org-a", entity_id: id },
          dedupeKey: bulkExecutionKey(jobId, id),
        }),
      ),
    );
    await settleExecutions(jobId);
    await patchBulkJob(q.env, "org-a", jobId, "CANCEL", token);
    for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);
    await processBulkMessage(q.env, page, 2); // the dead consumer's page, redelivered
    const rows = await executionRows(jobId);
    expect(rows.map((r) => r.id).sort()).toEqual(started.map((s) => s.id).sort());
    expect(rows.every((r) => r.status === "cancelled")).toBe(true);
    expect(await jobRow(jobId)).toMatchObject({ status: "cancelled", items_dispatched: 20, items_finished: 20 });
  });

  it("an execution's end replayed (outbox replay) counts once; the report step run twice writes one report", async () => {
    const { jobId, q, load } = await approvedJob("rd-report", 5);
    await processBulkMessage(q.env, load);
    for (const m of take(q)) await processBulkMessage(q.env, m);
    await settleExecutions(jobId);
    const before = await jobRow(jobId);
    expect(before.items_finished).toBe(5);

    const [first] = await executionRows(jobId);
    const snap = (await executionClient(env as unknown as Env, first.id).snapshot("org-a"))!;
    await env.DB.batch(bulkItemStatements(env.DB, snap.state));
    await env.DB.batch(bulkItemStatements(env.DB, { ...snap.state, status: "failed" }));
    const after = await jobRow(jobId);
    expect(after.items_finished).toBe(5);
    expect(after.items_dispatched).toBe(5);

    if (after.status === "send_report") {
      const report = bulkMessage({ type: "report", org_id: "org-a", job_id: jobId });
      await Promise.all([processBulkMessage(q.env, report), processBulkMessage(q.env, report)]);
      await processBulkMessage(q.env, report);
    }
    const done = await runJob(jobId);
    expect(done.status).toBe("finished");
    const reports = await env.DB.prepare(
      `SELECT id FROM records WHERE org_id = 'org-a' AND schema = ? AND json_extract(data, '$.job_id') = ?`,
    )
      .bind(BULK_REPORT_SCHEMA, jobId)
      .all<{ id: string }>();
    expect(reports.results.map((r) => r.id)).toEqual([done.report_file_entity_id]);
  });
});
