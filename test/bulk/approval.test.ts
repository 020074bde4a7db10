import { createMessageBatch, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { handleBulkDeadLetters, processBulkMessage } from "../../src/queues/bulk";
import { patchBulkJob } from "../../src/services/bulk-jobs";
import { apiKey, call } from "../helpers";
import { SINK, createFlow, sinkReset } from "../support/engine";
import {
  BULK_PATH,
  approve,
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

const patch = (id: string, body: unknown, org = "org-a") => call("PATCH", `${BULK_PATH}/${id}`, { org, body });

async function smallJob(name: string, count = 3) {
  const schema = uniqueSchema(name);
  const flow = await createFlow({
    flow_name: name,
    actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/${name}` } }],
  });
  await seedRecords(schema, count);
  return { flow, schema, ...(await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` })) };
}

/** A flow whose executions wait for a callback, so they stay unfinished until cancelled. */
async function waitingJob(name: string, count: number) {
  const schema = uniqueSchema(name);
  const flow = await createFlow({
    flow_name: name,
    actions: [{ id: "w", type: "custom-action", config: { wait_for_callback: true, url: `${SINK}/${name}` } }],
  });
  await seedRecords(schema, count);
  return { flow, schema, ...(await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` })) };
}

describe("bulk jobs: approval", () => {
  it("starts in approval with a task token that only its creator got; GET never shows the token", async () => {
    const { job, token } = await smallJob("tok");
    expect(job).toMatchObject({ status: "approval", org_id: "org-a", created_by: expect.any(String) });
    expect(job.task_token).toBe(token);
    const row = await jobRow(job.job_id);
    expect(row.task_token_hash).not.toContain(token); // stored hashed
    expect(row.task_token_hash).toMatch(/^[0-9a-f]{64}$/);
    const view = await getJob(job.job_id);
    expect(view.task_token).toBeUndefined();
    expect(view.counts).toMatchObject({ total: 0, dispatched: 0, finished: 0 });
  });

  it("a wrong token is 403 and changes nothing; the right one approves; approving twice is 409", async () => {
    const { job, token } = await smallJob("appr");
    const wrong = await patch(job.job_id, { action: "APPROVE", task_token: token.slice(0, -2) + "xx" });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe("FORBIDDEN");
    expect((await jobRow(job.job_id)).status).toBe("approval");

    const ok = await approve(job.job_id, token);
    expect(ok.status).not.toBe("approval");
    expect(ok.approved_at).toBeTruthy();
    const twice = await patch(job.job_id, { action: "APPROVE", task_token: token });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/already approved/);
    // A wrong token is still 403 (checked first), and still changes nothing.
    expect((await patch(job.job_id, { action: "CANCEL", task_token: "nope" })).status).toBe(403);
    expect((await runJob(job.job_id)).status).toBe("finished");

    const after = await jobRow(job.job_id);
    for (const action of ["APPROVE", "CANCEL"]) {
      const res = await patch(job.job_id, { action, task_token: token });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toMatch(/already finished/);
    }
    expect(await jobRow(job.job_id)).toEqual(after);
  });

  it("another org's job is 404 for GET and PATCH; scopes: read may GET, trigger may create and patch", async () => {
    const { job, token } = await smallJob("org");
    expect((await call("GET", `${BULK_PATH}/${job.job_id}`, { org: "org-b" })).status).toBe(404);
    expect((await patch(job.job_id, { action: "APPROVE", task_token: token }, "org-b")).status).toBe(404);
    expect((await jobRow(job.job_id)).status).toBe("approval");

    const reader = await apiKey("org-a", ["automations:read"]);
    const trigger = await apiKey("org-a", ["automations:trigger"]);
    expect((await call("GET", `${BULK_PATH}/${job.job_id}`, { token: reader })).status).toBe(200);
    expect(
      (await call("PATCH", `${BULK_PATH}/${job.job_id}`, { token: reader, body: { action: "CANCEL", task_token: token } }))
        .status,
    ).toBe(403);
    const body = { flow_id: job.flow_id, entities_query: job.entity_query.data };
    expect((await call("POST", BULK_PATH, { token: reader, body })).status).toBe(403);
    expect((await call("POST", BULK_PATH, { token: trigger, body })).status).toBe(202);
    expect(
      (await call("PATCH", `${BULK_PATH}/${job.job_id}`, { token: trigger, body: { action: "CANCEL", task_token: token } }))
        .status,
    ).toBe(200);
    expect((await call("GET", `${BULK_PATH}/${job.job_id}`, { token: null })).status).toBe(401);
  });

  it("the bulk-jobs routes are not taken for an execution id", async () => {
    const { job } = await smallJob("route");
    const got = await call("GET", `${BULK_PATH}/${job.job_id}`);
    expect(got.status).toBe(200);
    expect(got.body.job_id).toBe(job.job_id);
    const unknown = await call("GET", `${BULK_PATH}/no-such-job`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("Bulk job not found");
    expect((await call("PATCH", `${BULK_PATH}/no-such-job`, { body: { action: "CANCEL", task_token: "x" } })).status).toBe(404);
  });
});

describe("bulk jobs: cancel", () => {
  it("cancel in approval: nothing ever starts; approve or cancel afterwards is 409", async () => {
    const { job, token } = await smallJob("c-appr");
    const res = await patch(job.job_id, { action: "CANCEL", task_token: token });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    expect(res.body.finished_at).toBeTruthy();
    expect((await patch(job.job_id, { action: "APPROVE", task_token: token })).status).toBe(409);
    expect((await patch(job.job_id, { action: "CANCEL", task_token: token })).status).toBe(409);
    expect((await runJob(job.job_id)).status).toBe("cancelled");
    expect(await executionRows(job.job_id)).toEqual([]);
  });

  it("cancel while executing: pages not started never start, started executions are cancelled", { timeout: 60_000 }, async () => {
    const { job, token } = await waitingJob("c-exec", 150); // two execution pages: 100 + 50
    const q = capturingEnv();
    await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
    await processBulkMessage(q.env, q.sent.shift()!); // load: all 150 items, then the first execute page
    const [page0] = q.sent.splice(0);
    expect(page0).toMatchObject({ type: "execute", page: 0 });
    await processBulkMessage(q.env, page0); // page 0 starts 100 executions and sends page 1
    const pages = [page0, ...q.sent.splice(0)];
    expect(pages[1]).toMatchObject({ type: "execute", page: 1 });
    await settleExecutions(job.job_id); // page 0: 100 executions, all paused
    expect((await getJob(job.job_id)).counts).toMatchObject({ total: 150, paused: 100, pending: 50, waiting: 100 });

    const cancelled = await patchBulkJob(q.env, "org-a", job.job_id, "CANCEL", token);
    expect(cancelled.status).toBe("cancelled");
    // Page 1 arrives after the cancel: nothing starts.
    await processBulkMessage(q.env, pages[1]);
    for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);

    const rows = await executionRows(job.job_id);
    expect(rows).toHaveLength(100);
    expect(rows.every((r) => r.status === "cancelled")).toBe(true);
    const view = await getJob(job.job_id);
    expect(view.status).toBe("cancelled");
    expect(view.counts).toMatchObject({ total: 150, dispatched: 150, finished: 150, waiting: 0, cancelled: 150 });
    expect((await patch(job.job_id, { action: "CANCEL", task_token: token })).status).toBe(409);
  });

  it("cancel while loading: the loading stops and no execution starts", async () => {
    const { job, token } = await smallJob("c-load", 5);
    const q = capturingEnv();
    await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
    const load = q.sent.shift()!;
    expect((await patchBulkJob(q.env, "org-a", job.job_id, "CANCEL", token)).status).toBe("cancelled");
    await processBulkMessage(q.env, load);
    for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);
    const row = await jobRow(job.job_id);
    expect(row).toMatchObject({ status: "cancelled", pages_processed: 0, items_total: 0 });
    expect(await executionRows(job.job_id)).toEqual([]);
  });
});

describe("bulk jobs: the dead-letter queue", () => {
  it("a page that gave up fails its job with the reason, and is recorded", async () => {
    const { job, token } = await smallJob("dlq");
    const q = capturingEnv();
    await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
    const body = q.sent[0];
    const batch = createMessageBatch<unknown>("automation-bulk-dlq", [{ id: "dlq-1", timestamp: new Date(), attempts: 1, body }]);
    await handleBulkDeadLetters(batch, env);
    const row = await jobRow(job.job_id);
    expect(row.status).toBe("failed");
    expect(row.error).toContain("load message");
    const dead = await env.DB.prepare(`SELECT reason FROM dead_letters WHERE queue = 'automation-bulk' AND message_key = ?`)
      .bind(body.id)
      .first<{ reason: string }>();
    expect(dead).not.toBeNull();
    expect((await patch(job.job_id, { action: "CANCEL", task_token: token })).status).toBe(409);
  });
});
