import { createExecutionContext, createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { reconcileExecutions } from "../../src/services/reconcile";
import { reconcileAll } from "../../src/services/reconcile-all";
import { reconcileBulkJobs } from "../../src/services/reconcile-bulk-jobs";
import { createFlow, drive, executionStub, sinkReset, startExec } from "../support/engine";

/**
 * The reconciliation is the safety net of everything else: one failing step (a D1 query, one execution's
 * object, one bulk job's message) is reported and the other steps still run.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

let errorLog: ReturnType<typeof vi.spyOn>;
beforeEach(async () => {
  await sinkReset();
  await env.DB.batch([
    env.DB.prepare("DELETE FROM executions"),
    env.DB.prepare("DELETE FROM reconcile_cursors"),
    env.DB.prepare("DELETE FROM idempotency_keys"),
    env.DB.prepare("DELETE FROM event_inbox"),
    env.DB.prepare("DELETE FROM bulk_jobs"),
  ]);
  errorLog = vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => errorLog.mockRestore());

/** A D1 binding whose statements containing `fragment` fail when run, as a broken query would. */
function failingDb(db: D1Database, fragment: string): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => target.prepare(sql.includes(fragment) ? "SELECT * FROM injected_d1_failure" : sql);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** An executions namespace whose object for `brokenId` throws on every call. */
function withBrokenObject(base: Env, brokenId: string): Env {
  const ns = base.EXECUTIONS;
  const broken = ns.idFromName(brokenId);
  const wrapped = new Proxy(ns, {
    get(target, prop) {
      if (prop === "get")
        return (id: DurableObjectId) =>
          id.equals(broken)
            ? {
                ensureAlarm: async () => {
                  throw new Error("object storage is corrupt");
                },
              }
            : target.get(id);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...base, EXECUTIONS: wrapped as Env["EXECUTIONS"] };
}

async function lostAlarmExecution(flowId: string, updatedAt: number): Promise<string> {
  const id = await startExec(flowId);
  expect((await drive(id)).execution_status).toBe("scheduled");
  await runInDurableObject(executionStub(id), (_o, state) => state.storage.deleteAlarm());
  await env.DB.prepare("UPDATE executions SET updated_at = ? WHERE id = ?").bind(new Date(updatedAt).toISOString(), id).run();
  return id;
}

const alarmOf = (id: string) => runInDurableObject(executionStub(id), (_o, state) => state.storage.getAlarm());

async function seedExecution(id: string, status: string, updatedAt: number): Promise<void> {
  const at = new Date(updatedAt).toISOString();
  await env.DB.prepare(
    `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at)
     VALUES (?, 'org-a', 'f', 'f', 1, 'e', ?, ?, ?)`,
  )
    .bind(id, status, at, at)
    .run();
}

/** Something for each prune step to delete: a finished execution, an idempotency key and a settled event, all old. */
async function seedPrunable(now: number): Promise<void> {
  await seedExecution("old-finished", "success", now - 40 * DAY);
  const old = new Date(now - 40 * DAY).toISOString();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO idempotency_keys (org_id, scope, key, execution_id, created_at) VALUES ('org-a', 'start', 'old-key', 'x', ?)",
    ).bind(now - 2 * DAY),
    env.DB.prepare(
      `INSERT INTO event_inbox (org_id, id, body, state, sends, next_send_at, created_at, updated_at)
       VALUES ('org-a', 'old-event', '{}', 'done', 1, ?, ?, ?)`,
    ).bind(old, old, old),
  ]);
}

async function delayFlowId(): Promise<string> {
  const flow = await createFlow({
    flow_name: "waits",
    actions: [{ id: "d", type: "delay", config: { duration: 1, unit: "days" } }],
  });
  return flow.id as string;
}

describe("one failing step does not skip the others", () => {
  it("an execution whose object throws is reported; the rest of its page and the prunes still run", async () => {
    const now = Date.now();
    const flowId = await delayFlowId();
    await seedExecution("broken", "scheduled", now - 3 * DAY); // the first of the page
    const a = await lostAlarmExecution(flowId, now - 2 * DAY);
    const b = await lostAlarmExecution(flowId, now - DAY);
    await seedPrunable(now);

    const report = await reconcileExecutions(withBrokenObject(env, "broken"), now);
    expect(report.errors).toEqual([{ step: "executions.scheduled", id: "broken", message: "object storage is corrupt" }]);
    expect(report.rearmed.sort()).toEqual([a, b].sort());
    expect(await alarmOf(a)).not.toBeNull();
    expect(await alarmOf(b)).not.toBeNull();
    expect(report).toMatchObject({ checked: 3, lost: [], pruned: 1, pruned_keys: 1, pruned_events: 1 });
    expect(errorLog).toHaveBeenCalledWith(expect.stringContaining("broken"));
  });

  it("a failing D1 query of the sweeps is reported and every prune still runs", async () => {
    const now = Date.now();
    await seedExecution("never-started", "pending", now - HOUR);
    await seedPrunable(now);
    const broken = { ...env, DB: failingDb(env.DB, "AND (updated_at > ? OR id > ?)") };
    const report = await reconcileExecutions(broken, now);
    expect(report.errors.map((e) => e.step)).toEqual(["executions.running", "executions.scheduled"]);
    expect(report.errors[0].message).toMatch(/injected_d1_failure/);
    expect(report).toMatchObject({ checked: 0, pruned: 1, pruned_keys: 1, pruned_events: 1 });
    expect(errorLog).toHaveBeenCalledTimes(2);
  });

  it("a failing prune is reported; the sweeps before it and the prunes after it still run", async () => {
    const now = Date.now();
    await seedExecution("never-started", "pending", now - HOUR);
    await seedPrunable(now);
    const report = await reconcileExecutions({ ...env, DB: failingDb(env.DB, "DELETE FROM idempotency_keys") }, now);
    expect(report.errors.map((e) => e.step)).toEqual(["prune.idempotency_keys"]);
    expect(report).toMatchObject({ lost: ["never-started"], pruned: 1, pruned_keys: 0, pruned_events: 1 });
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM idempotency_keys")
        .first<{ n: number }>()
        .then((r) => r?.n),
    ).toBe(1);
  });

  it("the scheduled handler runs the executions, schedules and bulk steps when the events step fails", async () => {
    const now = Date.now();
    const lost = await lostAlarmExecution(await delayFlowId(), now - DAY);
    const broken = { ...env, DB: failingDb(env.DB, "FROM event_inbox WHERE state = 'queued'") };

    const report = await reconcileAll(broken, now);
    expect(report.errors.map((e) => e.step)).toEqual(["events"]);
    expect(report.events).toBeUndefined();
    expect(report.executions?.rearmed).toEqual([lost]);
    expect(report.schedules).toBeDefined();
    expect(report.bulk_jobs).toEqual({ resent: [], errors: [] });

    // The Worker's handler itself does not throw either.
    await runInDurableObject(executionStub(lost), (_o, state) => state.storage.deleteAlarm());
    await env.DB.prepare("DELETE FROM reconcile_cursors").run();
    await worker.scheduled(
      createScheduledController({ scheduledTime: now, cron: "* * * * *" }),
      broken,
      createExecutionContext(),
    );
    expect(await alarmOf(lost)).not.toBeNull();
  });

  it("a failing early step of the scheduled handler leaves the later ones running", async () => {
    const now = Date.now();
    await seedPrunable(now);
    // Every executions query fails: the sweeps and the execution prune; the other steps run.
    const report = await reconcileAll({ ...env, DB: failingDb(env.DB, "FROM executions") }, now);
    expect(report.executions?.errors.map((e) => e.step)).toEqual([
      "executions.running",
      "executions.scheduled",
      "prune.executions",
    ]);
    expect(report.executions).toMatchObject({ pruned_keys: 1, pruned_events: 1 });
    expect(report.events).toEqual({ resent: 0, dead: [] });
    expect(report.schedules).toBeDefined();
    expect(report.bulk_jobs).toBeDefined();
    expect(report.errors).toEqual([]);
  });

  it("a bulk job whose message cannot be sent is reported; the other stalled jobs are still resumed", async () => {
    const now = Date.now();
    const old = new Date(now - HOUR).toISOString();
    for (const id of ["job-bad", "job-good"]) {
      await env.DB.prepare(
        `INSERT INTO bulk_jobs (id, org_id, flow_id, status, created_by, task_token_hash, query_type, query_data, page_size,
           load_page_size, created_at, updated_at)
         VALUES (?, 'org-a', 'f', 'send_report', 'test', 'h', 'refs', '[]', 100, 1000, ?, ?)`,
      )
        .bind(id, old, old)
        .run();
    }
    const sent: unknown[] = [];
    const queue = {
      sendBatch: async (messages: Iterable<MessageSendRequest>) => {
        const list = [...messages];
        if (list.some((m) => (m.body as { job_id?: string }).job_id === "job-bad")) throw new Error("queue unavailable");
        sent.push(...list.map((m) => m.body));
      },
    } as unknown as Env["BULK_QUEUE"];

    const report = await reconcileBulkJobs({ ...env, BULK_QUEUE: queue }, now);
    expect(report.resent).toEqual([{ job_id: "job-good", message: "report" }]);
    expect(report.errors).toEqual([{ step: "bulk_jobs", id: "job-bad", message: "queue unavailable" }]);
    expect(sent).toEqual([expect.objectContaining({ type: "report", job_id: "job-good" })]);
    // The failed one is not touched: it is looked at again next run.
    const updated = await env.DB.prepare("SELECT id, updated_at FROM bulk_jobs ORDER BY id").all<{
      id: string;
      updated_at: string;
    }>();
    expect(updated.results).toEqual([
      { id: "job-bad", updated_at: old },
      { id: "job-good", updated_at: new Date(now).toISOString() },
    ]);
  });
});
