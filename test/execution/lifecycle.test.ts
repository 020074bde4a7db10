import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { processBulkMessage } from "../../src/queues/bulk";
import { patchBulkJob } from "../../src/services/bulk-jobs";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { SINK, createFlow, drive, executionStub, setClock, sinkReset, startExec } from "../support/engine";
import { capturingEnv, createJob, executionRows, seedRecords, settleExecutions, uniqueSchema } from "../bulk/support";

beforeEach(sinkReset);

const RETENTION_MS = LIMITS.EXECUTION_RETENTION_DAYS_DEFAULT * 86_400_000;

async function flowStats(id: string) {
  const res = await call("GET", `/v1/automation/flows/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function timers(id: string): Promise<{ kind: string; due_at: number }[]> {
  return runInDurableObject(executionStub(id), (_o: ExecutionObject, ctx) =>
    ctx.storage.sql
      .exec<{ key: string; value: string }>(`SELECT key, value FROM kv WHERE key LIKE 'timer:%' AND value <> 'null' ORDER BY key`)
      .toArray()
      .map((t) => ({ kind: t.key.slice("timer:".length), due_at: Number(t.value) })),
  );
}

async function storageTables(id: string): Promise<number> {
  return runInDurableObject(
    executionStub(id),
    (_o: ExecutionObject, ctx) => ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM sqlite_master`).one().n,
  );
}

describe("every entry into a final status is a `finished` command", () => {
  it("a cancelled execution is counted in the flow's statistics and pruned on the retention schedule", async () => {
    const flow = await createFlow({
      flow_name: "cancel me",
      actions: [{ id: "wait", type: "delay", config: { duration: 1, unit: "hours" } }],
    });
    const t0 = Date.parse("2026-05-01T08:00:00Z");
    const id = await startExec(flow.id);
    expect((await drive(id, t0)).execution_status).toBe("scheduled");
    const res = await call("DELETE", `/v1/automation/executions/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.execution_status).toBe("cancelled");
    expect(await flowStats(flow.id)).toMatchObject({ runs: 1, consecutive_failures: 0 });
    // No wake is left, only the prune timer, due one retention period after the cancel.
    expect(await timers(id)).toEqual([{ kind: "prune", due_at: t0 + RETENTION_MS }]);

    await setClock(id, t0 + RETENTION_MS + 1);
    await runDurableObjectAlarm(executionStub(id));
    expect(await executionStub(id).snapshot()).toBeNull();
    expect(await storageTables(id)).toBe(0);
  });

  it("a cancel_execution outcome finishes the execution: counted, with a prune timer", async () => {
    const flow = await createFlow({
      flow_name: "self cancel",
      actions: [
        { id: "stop", type: "cancel-flow-execution", config: {} },
        { id: "never", type: "call_webhook", config: { url: `${SINK}/never` } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id, Date.parse("2026-05-01T08:00:00Z"));
    expect(exec.execution_status).toBe("cancelled");
    expect(await flowStats(flow.id)).toMatchObject({ runs: 1 });
    expect((await timers(id)).map((t) => t.kind)).toEqual(["prune"]);
  });

  it("every execution of a cancelled bulk job is counted and pruned", { timeout: 60_000 }, async () => {
    const schema = uniqueSchema("bulk-cancel-stats");
    const flow = await createFlow({
      flow_name: "bulk waiters",
      actions: [{ id: "w", type: "custom-action", config: { wait_for_callback: true } }],
    });
    await seedRecords(schema, 3);
    const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
    const q = capturingEnv();
    await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
    for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);
    await settleExecutions(job.job_id);
    await patchBulkJob(q.env, "org-a", job.job_id, "CANCEL", token);
    for (let m = q.sent.shift(); m; m = q.sent.shift()) await processBulkMessage(q.env, m);

    const rows = await executionRows(job.job_id);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === "cancelled")).toBe(true);
    expect(await flowStats(flow.id)).toMatchObject({ runs: 3 });
    for (const r of rows) expect((await timers(r.id)).map((t) => t.kind)).toEqual(["prune"]);
  });
});

describe("leaving a final status clears retention", () => {
  it("a retrigger after a failure leaves no stale prune timer, no alarm loop and no spurious wake events", async () => {
    const flow = await createFlow({
      flow_name: "retrigger after finish",
      retry_policy: { max_attempts: 1 },
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/flaky/1/retrigger-after-finish` } }],
    });
    const t0 = Date.parse("2026-05-01T08:00:00Z");
    const id = await startExec(flow.id);
    expect((await drive(id, t0)).execution_status).toBe("failed");
    expect((await timers(id)).map((t) => t.kind)).toEqual(["prune"]);

    const retrigger = await call("POST", `/v1/automation/executions/${id}/h/retrigger`, { body: {} });
    expect(retrigger.status, JSON.stringify(retrigger.body)).toBe(200);
    // The prune timer went with the final status; only the wake that runs the retried action is left.
    expect((await timers(id)).map((t) => t.kind)).toEqual(["wake"]);

    const exec = await drive(id, t0 + 1000);
    expect(exec.execution_status).toBe("success");
    expect(await timers(id)).toEqual([{ kind: "prune", due_at: t0 + 1000 + RETENTION_MS }]);
    // Firing the alarm again before the retention is due changes nothing and logs nothing.
    const before = ((await executionStub(id).eventLog()) as unknown[]).length;
    await runDurableObjectAlarm(executionStub(id));
    await runDurableObjectAlarm(executionStub(id));
    expect(((await executionStub(id).eventLog()) as unknown[]).length).toBe(before);
    const types = ((await executionStub(id).eventLog()) as { type: string }[]).map((e) => e.type);
    expect(types.filter((t) => t === "wake").length).toBe(2); // the first start, and the wake after the retrigger
    // Counted once, as its latest outcome (test/security/defence-in-depth.test.ts).
    expect(await flowStats(flow.id)).toMatchObject({ runs: 1, consecutive_failures: 0, success_rate: 1 });
  });
});

describe("an id that never started leaves no storage", () => {
  it("control calls and the reconciliation's check answer 'not found' and create nothing", async () => {
    const id = crypto.randomUUID();
    const stub = executionStub(id);
    expect(await stub.cancel("org-a", "x")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.retrigger("org-a", "a", "RETRY_AND_RESUME")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.resume("org-a", `${id}.x`)).toMatchObject({ ok: false, status: 404 });
    expect(await stub.cancelSchedule("org-a", "s")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.ensureAlarm()).toBe("missing");
    expect(await stub.snapshot()).toBeNull();
    expect(await stub.eventLog()).toEqual([]);
    expect(await stub.nextWakeAt()).toBeNull();
    expect(await storageTables(id)).toBe(0);
    const alarm = await runInDurableObject(stub, (_o: ExecutionObject, ctx) => ctx.storage.getAlarm());
    expect(alarm).toBeNull();
  });
});
