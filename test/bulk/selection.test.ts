import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, createRecord, sinkReset } from "../support/engine";
import { BULK_PATH, approve, createJob, executionRows, getJob, runJob, seedRecords, uniqueSchema } from "./support";

beforeEach(sinkReset);

const hookFlow = (name: string) =>
  createFlow({ flow_name: name, actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/bulk/${name}` } }] });

describe("bulk jobs: the three entity selections", () => {
  it("entities_refs: one execution per record; unknown, foreign and wrong-schema refs are failed items", async () => {
    const schema = uniqueSchema("contact");
    const flow = await hookFlow("refs");
    const mine = [await createRecord(schema, { name: "a" }), await createRecord(schema, { name: "b" })];
    const foreign = await createRecord(schema, { name: "other org" }, "org-b");
    const { job, token } = await createJob({
      flow_id: flow.id,
      entities_refs: [
        { entity_id: mine[0]._id, entity_schema: schema },
        { entity_id: mine[1]._id, entity_schema: schema },
        { entity_id: mine[0]._id, entity_schema: schema }, // a duplicate is the same record
        { entity_id: "no-such-record", entity_schema: schema },
        { entity_id: foreign._id, entity_schema: schema },
        { entity_id: mine[1]._id, entity_schema: "deal" }, // exists, but not under this schema: a different record
      ],
      trigger_context: { campaign: "spring" },
    });
    expect(job.status).toBe("approval");
    expect(typeof token).toBe("string");
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(job.entity_query.type).toBe("refs");
    expect(job.entity_query.data).toHaveLength(4);

    await approve(job.job_id, token);
    const end = await runJob(job.job_id);
    expect(end.status).toBe("finished");

    const view = await getJob(job.job_id);
    expect(view.counts).toMatchObject({ total: 4, dispatched: 4, finished: 4, success: 2, failed: 2 });
    const byEntity = Object.fromEntries(view.execution_summary.map((i: any) => [i.entity_id, i]));
    expect(byEntity[mine[0]._id].execution_status).toBe("success");
    expect(byEntity[mine[1]._id].execution_status).toBe("success");
    expect(byEntity["no-such-record"]).toMatchObject({ execution_status: "failed", error: "entity not found" });
    expect(byEntity[foreign._id]).toMatchObject({ execution_status: "failed", error: "entity not found" });

    const rows = await executionRows(job.job_id);
    expect(rows.map((r) => r.entity_id).sort()).toEqual([mine[0]._id, mine[1]._id].sort());
    expect(rows.every((r) => r.status === "success")).toBe(true);

    // The executions carry the job and its trigger context.
    const exec = await call("GET", `/v1/automation/executions/${byEntity[mine[0]._id].execution_id}`);
    expect(exec.body.trigger_event).toMatchObject({
      type: "bulk",
      bulk_job_id: job.job_id,
      trigger_context: { campaign: "spring" },
    });
    expect(exec.body.entity_id).toBe(mine[0]._id);

    // The report is a record: counts per status and the failed items.
    expect(view.report_file_entity_id).toBeTruthy();
    const report = await call("GET", `/v1/entities/bulk_job_report/${view.report_file_entity_id}`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      job_id: job.job_id,
      flow_id: flow.id,
      total: 4,
      status_counts: { success: 2, failed: 2 },
    });
    expect(report.body.failed_items_total).toBe(2);
    expect(report.body.failed_items.map((i: any) => i.entity_id).sort()).toEqual(["no-such-record", foreign._id].sort());
    expect(report.body.failed_items[0].error).toBe("entity not found");
  });

  it("entities_query: the records matching a query string (docs/records.md), in the org only", async () => {
    const schema = uniqueSchema("lead");
    const flow = await hookFlow("query");
    const ids = await seedRecords(schema, 30, (i) => ({ name: `l${i}`, status: i % 3 === 0 ? "active" : "idle" }));
    await seedRecords(schema + "-b", 5, () => ({ status: "active" }), "org-b");
    const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema} AND status:active` });
    expect(job.entity_query).toEqual({ type: "query", data: `_schema:${schema} AND status:active` });
    await approve(job.job_id, token);
    expect((await runJob(job.job_id)).status).toBe("finished");
    const rows = await executionRows(job.job_id);
    expect(rows.map((r) => r.entity_id).sort()).toEqual(ids.filter((_, i) => i % 3 === 0));
    const view = await getJob(job.job_id);
    expect(view.counts).toMatchObject({ total: 10, success: 10 });
    expect(view.pagination_state).toMatchObject({ pages_processed: 1, total_processed: 10, has_more: false });
  });

  it("entities_filter: an EntitySearchFilter with term, terms, range, exists and $or/$not, evaluated in SQL", async () => {
    const schema = uniqueSchema("deal");
    const flow = await hookFlow("filter");
    const ids = await seedRecords(schema, 40, (i) => ({
      stage: ["open", "won", "lost"][i % 3],
      value: i * 10,
      ...(i % 2 === 0 ? { owner: "ann" } : {}),
    }));
    const filter = [
      { term: { _schema: schema } },
      { terms: { stage: ["open", "won"] } },
      { range: { value: { gte: 50, lt: 300 } } },
      { $or: [{ exists: { field: "owner" } }, { term: { stage: "won" } }] },
      { $not: [{ ids: { values: [ids[6]] } }] },
    ];
    const expected = ids.filter((_, i) => {
      const stage = ["open", "won", "lost"][i % 3];
      return stage !== "lost" && i * 10 >= 50 && i * 10 < 300 && (i % 2 === 0 || stage === "won") && i !== 6;
    });
    const { job, token } = await createJob({ flow_id: flow.id, entities_filter: filter });
    expect(job.entity_query).toEqual({ type: "filter", data: filter });
    await approve(job.job_id, token);
    expect((await runJob(job.job_id)).status).toBe("finished");
    expect((await executionRows(job.job_id)).map((r) => r.entity_id).sort()).toEqual(expected);
  });

  it("a selection that matches nothing any more when loading still ends with a report", async () => {
    const schema = uniqueSchema("gone");
    const flow = await hookFlow("gone");
    await seedRecords(schema, 3);
    const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
    await env.DB.prepare(`DELETE FROM records WHERE schema = ?`).bind(schema).run();
    await approve(job.job_id, token);
    const end = await runJob(job.job_id);
    expect(end.status).toBe("finished");
    expect(end.items_total).toBe(0);
    expect(end.report_file_entity_id).toBeTruthy();
  });

  it("GET pages the execution summary (keyset on position, optionally by status)", async () => {
    const schema = uniqueSchema("page");
    const flow = await hookFlow("page");
    const ids = await seedRecords(schema, 7);
    const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
    await approve(job.job_id, token);
    await runJob(job.job_id);
    const first = await getJob(job.job_id, "?summary_size=3");
    expect(first.execution_summary.map((i: any) => i.entity_id)).toEqual(ids.slice(0, 3));
    expect(first.execution_summary_paging).toEqual({ from: 0, size: 3, next_from: 3 });
    const last = await getJob(job.job_id, `?summary_size=3&summary_from=6`);
    expect(last.execution_summary.map((i: any) => i.entity_id)).toEqual(ids.slice(6));
    expect(last.execution_summary_paging.next_from).toBeNull();
    expect((await getJob(job.job_id, "?summary_status=failed")).execution_summary).toEqual([]);
    expect((await getJob(job.job_id, "?summary_size=0")).execution_summary).toEqual([]);
    expect((await call("GET", `${BULK_PATH}/${job.job_id}?summary_size=5000`)).status).toBe(400);
  });
});
