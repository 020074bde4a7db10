import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { processBulkMessage } from "../../src/queues/bulk";
import type { BulkMessage } from "../../src/schemas/bulk-jobs";
import { patchBulkRerun } from "../../src/services/bulk-reruns";
import { reconcileBulkJobs } from "../../src/services/reconcile-bulk-jobs";
import { call } from "../helpers";
import { capturingEnv } from "../bulk/support";
import { SINK, createFlow, drive, executionStub, getExecution, sinkRequests, sinkReset, startExec } from "../support/engine";
import { ledger } from "./support";

/** Bulk reruns: the failed executions of a flow rerun as one job, previewed, approved or cancelled. */

const PATH = "/v1/automation/executions/bulk-reruns";
beforeEach(sinkReset);

let n = 0;
const uniq = () => `b${++n}-${crypto.randomUUID().slice(0, 8)}`;

/** A flow whose `hook` fails once per execution (then succeeds), followed by `after`, or a long delay. */
async function failedExecutions(count: number, opts: { wait?: boolean } = {}) {
  const u = uniq();
  const flow = await createFlow({
    flow_name: `bulk rerun ${u}`,
    retry_policy: { max_attempts: 1 },
    actions: [
      { id: "hook", name: "Sync", type: "call_webhook", config: { url: `${SINK}/flaky/1/${u}/{{ execution.id }}` } },
      opts.wait
        ? { id: "after", type: "delay", config: { duration: 1, unit: "hours" } }
        : { id: "after", type: "call_webhook", config: { url: `${SINK}/after/${u}` } },
    ],
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await startExec(flow.id);
    expect((await drive(id)).execution_status).toBe("failed");
    ids.push(id);
  }
  return { flow, ids, u };
}

async function create(body: Record<string, unknown>) {
  const res = await call("POST", PATH, { body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { job: res.body, token: res.body.task_token as string };
}

const patch = (id: string, body: unknown) => call("PATCH", `${PATH}/${id}`, { body });
const view = async (id: string) => (await call("GET", `${PATH}/${id}`)).body;

/** Delivers every captured rerun message in turn (as the queue would), with the consumer's own function. */
async function deliver(qenv: Env, sent: BulkMessage[]): Promise<void> {
  while (sent.length) await processBulkMessage(qenv, sent.shift()!);
}

describe("bulk rerun", () => {
  it("previews every rerun before anything is sent, waits for approval, then reruns them", async () => {
    const { flow, ids, u } = await failedExecutions(3);
    const requestsBefore = (await sinkRequests("/")).length;
    const { job, token } = await create({
      flow_id: flow.id,
      filter: { status: ["failed"], error_code: "TRIGGER_WEBHOOK_ERROR", action_id: "hook" },
    });
    expect(job).toMatchObject({ status: "approval", retry_strategy: "RETRY_AND_RESUME", counts: { total: 3, pending: 3 } });
    expect(token).toMatch(/.{20,}/);
    expect(job.preview).toMatchObject({ executions: 3, refused: 0, effects: 6, repeated_idempotency_keys: 3 });
    expect(job.preview.by_target).toContainEqual({ kind: "http", target: `sink.test/after/${u}`, count: 3, repeated: 0 });
    for (const id of ids)
      expect(job.preview.by_target).toContainEqual({
        kind: "http",
        target: `sink.test/flaky/1/${u}/${id}`,
        count: 1,
        repeated: 1,
      });
    expect(job.items.map((i: any) => [i.execution_id, i.action_id, i.status, i.effects, i.execution_status])).toEqual(
      ids.map((id) => [id, "hook", "pending", 2, "failed"]),
    );
    // Nothing was sent, nothing changed.
    expect((await sinkRequests("/")).length).toBe(requestsBefore);
    expect((await view(job.job_id)).task_token).toBeUndefined();

    const wrong = await patch(job.job_id, { action: "APPROVE", task_token: "x".repeat(40) });
    expect(wrong.status).toBe(403);
    expect((await view(job.job_id)).status).toBe("approval");

    const { env: qenv, sent } = capturingEnv();
    const approved = await patchBulkRerun(qenv, "org-a", job.job_id, "APPROVE", token);
    expect(approved.status).toBe("running");
    expect((await patch(job.job_id, { action: "APPROVE", task_token: token })).status).toBe(409);
    await deliver(qenv, sent);
    for (const id of ids) expect((await drive(id)).execution_status).toBe("success");

    const done = await view(job.job_id);
    expect(done).toMatchObject({ status: "finished", counts: { total: 3, retriggered: 3 } });
    expect(done.items.map((i: any) => [i.status, i.execution_status])).toEqual(ids.map(() => ["retriggered", "success"]));
    // What each rerun sent is what its preview said: 2 effects each, in the ledger.
    for (const id of ids) expect((await ledger(id)).total).toBe(1 + 2);
    expect((await sinkRequests(`/after/${u}`)).length).toBe(3);
    expect((await patch(job.job_id, { action: "CANCEL", task_token: token })).status).toBe(409);
  });

  it("a redelivered page reruns nothing twice: each retrigger carries its item's key", async () => {
    const { flow, ids, u } = await failedExecutions(2);
    const { job, token } = await create({ flow_id: flow.id });
    const { env: qenv, sent } = capturingEnv();
    await patchBulkRerun(qenv, "org-a", job.job_id, "APPROVE", token);
    const page = sent[0];
    await processBulkMessage(qenv, page);
    // Make the items look as if the first consumer died before recording them, then deliver the page again.
    await env.DB.prepare(`UPDATE bulk_rerun_items SET status = 'starting' WHERE job_id = ?`).bind(job.job_id).run();
    await env.DB.prepare(`UPDATE bulk_reruns SET status = 'running' WHERE id = ?`).bind(job.job_id).run();
    await processBulkMessage(qenv, page, 2);
    for (const id of ids) {
      await drive(id);
      const log = (await executionStub(id).eventLog()) as { type: string }[];
      expect(log.filter((e) => e.type === "retriggered")).toHaveLength(1);
    }
    expect((await sinkRequests(`/after/${u}`)).length).toBe(2);
    expect((await view(job.job_id)).status).toBe("finished");
  });

  it("cancel in approval: nothing is sent and every item is cancelled; a cancelled job cannot be approved", async () => {
    const { flow, ids } = await failedExecutions(2);
    const { job, token } = await create({ flow_id: flow.id });
    const res = await patch(job.job_id, { action: "CANCEL", task_token: token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "cancelled", counts: { total: 2, cancelled: 2 } });
    expect((await patch(job.job_id, { action: "APPROVE", task_token: token })).status).toBe(409);
    for (const id of ids) expect((await getExecution(id)).execution_status).toBe("failed");
  });

  it("cancel while running: items not sent stop, reruns already started are cancelled", async () => {
    const { flow, ids } = await failedExecutions(3, { wait: true });
    const { job, token } = await create({ flow_id: flow.id });
    // One execution per page, so the job is still running after its first page.
    await env.DB.prepare(`UPDATE bulk_reruns SET page_size = 1 WHERE id = ?`).bind(job.job_id).run();
    const { env: qenv, sent } = capturingEnv();
    await patchBulkRerun(qenv, "org-a", job.job_id, "APPROVE", token);
    await processBulkMessage(qenv, sent.shift()!); // page 0 only
    expect((await drive(ids[0])).execution_status).toBe("scheduled"); // rerun, now waiting in its delay
    expect((await view(job.job_id)).status).toBe("running");

    sent.length = 0; // page 1 is never delivered before the cancel
    const cancelled = await patchBulkRerun(qenv, "org-a", job.job_id, "CANCEL", token);
    expect(cancelled.status).toBe("cancelled");
    await deliver(qenv, sent); // the cancel's page
    expect((await getExecution(ids[0])).execution_status).toBe("cancelled");
    for (const id of ids.slice(1)) expect((await getExecution(id)).execution_status).toBe("failed");
    const after = await view(job.job_id);
    expect(after.items.map((i: any) => i.status)).toEqual(["retriggered", "cancelled", "cancelled"]);
    // A late copy of page 1 sends nothing.
    await processBulkMessage(qenv, { id: "late", type: "rerun", org_id: "org-a", job_id: job.job_id, page: 1 });
    expect((await getExecution(ids[1])).execution_status).toBe("failed");
  });

  it("a running job whose page message was lost is given it again by the reconciliation", async () => {
    const { flow, ids } = await failedExecutions(1);
    const { job, token } = await create({ flow_id: flow.id });
    const { env: qenv, sent } = capturingEnv();
    await patchBulkRerun(qenv, "org-a", job.job_id, "APPROVE", token);
    sent.length = 0; // the page is lost
    const later = Date.now() + 10 * 60_000;
    const report = await reconcileBulkJobs(qenv, later);
    expect(report.resent).toContainEqual({ job_id: job.job_id, message: "rerun" });
    await deliver(qenv, sent);
    expect((await drive(ids[0])).execution_status).toBe("success");
    expect((await view(job.job_id)).status).toBe("finished");
  });

  it("an execution whose rerun the preview refuses is kept as refused and never retriggered", async () => {
    const { flow, ids } = await failedExecutions(2);
    // `hook` failed: its outputs cannot be reused, so every preview refuses.
    const { job, token } = await create({ flow_id: flow.id, from_action_id: "hook", reuse_outputs: ["hook"] });
    expect(job.preview).toMatchObject({ executions: 2, refused: 2, effects: 0 });
    expect(job.items[0]).toMatchObject({ status: "refused", error: expect.stringMatching(/only a succeeded action/) });
    const { env: qenv, sent } = capturingEnv();
    await patchBulkRerun(qenv, "org-a", job.job_id, "APPROVE", token);
    await deliver(qenv, sent);
    expect((await view(job.job_id)).status).toBe("finished");
    for (const id of ids) expect((await getExecution(id)).execution_status).toBe("failed");
  });

  it("creating one is limited as a start (it reruns up to MAX_BULK_RERUN_EXECUTIONS executions); a preview is not", async () => {
    const doc = (await call("GET", "/openapi.json", { token: null })).body;
    expect(doc.paths["/v1/automation/executions/bulk-reruns"].post["x-rate-limit"]).toBe("trigger");
    expect(
      doc.paths["/v1/automation/executions/{execution_id}/{action_id}/retrigger:preview"].post["x-rate-limit"],
    ).toBeUndefined();
  });

  it("filters: time range, status, error code and action select nothing → 400 naming the filter; bad input → 400; unknown flow → 404", async () => {
    const { flow } = await failedExecutions(1);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const cases: Record<string, unknown>[] = [
      { created_after: future },
      { created_before: "2001-01-01T00:00:00Z" },
      { error_code: "MAPPING_ERROR" },
      { action_id: "after" },
      { status: ["success"] },
    ];
    for (const filter of cases) {
      const res = await call("POST", PATH, { body: { flow_id: flow.id, filter } });
      expect(res.status, JSON.stringify(filter)).toBe(400);
      expect(res.body.error.code).toBe("EMPTY_SELECTION");
    }
    // Failed at `hook`, but asked to rerun from an action it does not have.
    const none = await call("POST", PATH, { body: { flow_id: flow.id, from_action_id: "nope" } });
    expect(none.body.error.message).toMatch(/action nope/);
    for (const body of [
      { flow_id: flow.id, filter: { status: ["cancelled"] } },
      { flow_id: flow.id, filter: { created_after: "yesterday" } },
      { flow_id: flow.id, filter: { unknown: 1 } },
      { flow_id: flow.id, retry_strategy: "SOMETIMES" },
      {},
    ]) {
      expect((await call("POST", PATH, { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await call("POST", PATH, { body: { flow_id: "nope" } })).status).toBe(404);
    // Another org sees neither the flow nor a job.
    expect((await call("POST", PATH, { org: "org-b", body: { flow_id: flow.id } })).status).toBe(404);
    const { job } = await create({ flow_id: flow.id });
    expect((await call("GET", `${PATH}/${job.job_id}`, { org: "org-b" })).status).toBe(404);
  });
});
