import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { reconcileExecutions } from "../../src/services/reconcile";
import { listStaleExecutionsPage, markExecutionLost } from "../../src/store/executions";
import { createFlow, drive, executionStub, sinkReset, startExec } from "../support/engine";

/**
 * The reconciler's sweeps over unfinished executions: `scheduled` ones are checked too (their alarm may
 * be lost while they wait for days), and a cursor pages through the stale rows across runs so that
 * none starves behind the first batch.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const limits = LIMITS as unknown as { RECONCILE_BATCH: number; RECONCILE_SCHEDULED_BATCH: number };
const saved = { running: LIMITS.RECONCILE_BATCH, scheduled: LIMITS.RECONCILE_SCHEDULED_BATCH };

beforeEach(async () => {
  await sinkReset();
  limits.RECONCILE_BATCH = saved.running;
  limits.RECONCILE_SCHEDULED_BATCH = saved.scheduled;
  // Each test sees only its own executions and starts its sweeps from the beginning.
  await env.DB.batch([
    env.DB.prepare("DELETE FROM executions"),
    env.DB.prepare("DELETE FROM reconcile_cursors"),
    env.DB.prepare("DELETE FROM admission_queue"),
  ]);
});

async function delayFlow(): Promise<string> {
  const flow = await createFlow({
    flow_name: "waits a day",
    actions: [{ id: "d", type: "delay", config: { duration: 1, unit: "days" } }],
  });
  return flow.id as string;
}

/** A real execution waiting for its one-day delay (status `scheduled`, alarm armed). */
async function waitingExecution(flowId: string): Promise<string> {
  const id = await startExec(flowId);
  expect((await drive(id)).execution_status).toBe("scheduled");
  return id;
}

const alarmOf = (id: string) => runInDurableObject(executionStub(id), (_o, state) => state.storage.getAlarm());
const loseAlarm = (id: string) => runInDurableObject(executionStub(id), (_o, state) => state.storage.deleteAlarm());

/** Sets what the D1 index says of an execution: its status and when its summary last changed. */
async function setRow(id: string, status: string, updatedAt: number): Promise<void> {
  await env.DB.prepare("UPDATE executions SET status = ?, updated_at = ? WHERE id = ?")
    .bind(status, new Date(updatedAt).toISOString(), id)
    .run();
}

async function seedRow(id: string, status: string, updatedAt: number): Promise<void> {
  const at = new Date(updatedAt).toISOString();
  await env.DB.prepare(
    `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at)
     VALUES (?, 'org-a', 'f', 'f', 1, 'e', ?, ?, ?)`,
  )
    .bind(id, status, at, at)
    .run();
}

const rowOf = (id: string) =>
  env.DB.prepare("SELECT status, last_error FROM executions WHERE id = ?")
    .bind(id)
    .first<{ status: string; last_error: string }>();

describe("which executions are checked", () => {
  it("re-arms a scheduled execution whose alarm was lost, at its due time, and leaves a live one alone", async () => {
    const flowId = await delayFlow();
    const lost = await waitingExecution(flowId);
    const live = await waitingExecution(flowId);
    const liveAlarm = await alarmOf(live);
    await loseAlarm(lost);
    // Scheduled two days ago: its summary legitimately has not changed since.
    const now = Date.now();
    await setRow(lost, "scheduled", now - 2 * DAY);
    await setRow(live, "scheduled", now - 2 * DAY);

    const report = await reconcileExecutions(env, now);
    expect(report.errors).toEqual([]);
    expect(report.checked).toBe(2);
    expect(report.rearmed).toEqual([lost]);
    // Re-armed for the delay's end, not woken now; the live alarm is untouched.
    expect(await alarmOf(lost)).toBeGreaterThan(Date.now() + DAY - HOUR);
    expect(await alarmOf(live)).toBe(liveAlarm);
    expect((await drive(lost, now + DAY + 1000)).execution_status).toBe("success");
  });

  it("does not check a scheduled execution whose summary changed within STALE_EXECUTION_MS", async () => {
    const now = Date.now();
    await seedRow("fresh-scheduled", "scheduled", now - LIMITS.STALE_EXECUTION_MS + 60_000);
    expect((await reconcileExecutions(env, now)).checked).toBe(0);
    expect((await rowOf("fresh-scheduled"))?.status).toBe("scheduled");
  });

  it("fails a scheduled index row whose object holds no state", async () => {
    await seedRow("orphan-scheduled", "scheduled", Date.now() - DAY);
    const report = await reconcileExecutions(env, Date.now());
    expect(report.lost).toEqual(["orphan-scheduled"]);
    const row = await rowOf("orphan-scheduled");
    expect(row?.status).toBe("failed");
    expect(JSON.parse(row!.last_error).error_reason).toMatch(/holds no state/);
  });

  it("leaves executions waiting for a concurrency slot to the admission repair", async () => {
    const now = Date.now();
    for (const [id, state] of [
      ["queued-waiting", "waiting"],
      ["queued-admitted", "admitted"],
      ["queued-running", "running"],
    ]) {
      await seedRow(id, "pending", now - DAY);
      await env.DB.prepare(
        "INSERT INTO admission_queue (execution_id, org_id, flow_id, state, enqueued_at, input) VALUES (?, 'org-a', 'f', ?, ?, '{}')",
      )
        .bind(id, state, now - DAY)
        .run();
    }
    // Only the one whose slot says its object runs is the reconciler's (and its object holds nothing).
    expect((await reconcileExecutions(env, now)).lost).toEqual(["queued-running"]);
    expect((await rowOf("queued-waiting"))?.status).toBe("pending");
    expect((await rowOf("queued-admitted"))?.status).toBe("pending");
  });

  it("leaves paused executions alone: they wait for a resume call, not an alarm", async () => {
    await seedRow("paused-row", "paused", Date.now() - DAY);
    const report = await reconcileExecutions(env, Date.now());
    expect(report.checked).toBe(0);
    expect((await rowOf("paused-row"))?.status).toBe("paused");
  });
});

describe("paging with a cursor", () => {
  for (const sweep of [
    { status: "in_progress", batch: "RECONCILE_BATCH" as const },
    { status: "scheduled", batch: "RECONCILE_SCHEDULED_BATCH" as const },
  ]) {
    it(`reaches a lost ${sweep.status} execution behind a full batch of live ones, and wraps around`, async () => {
      limits[sweep.batch] = 2;
      const flowId = await delayFlow();
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await waitingExecution(flowId));
      const now = Date.now();
      // Oldest first: three live executions, then the one whose alarm is lost.
      for (const [i, id] of ids.entries()) await setRow(id, sweep.status, now - (10 - i) * HOUR);
      const [oldest, , , lost] = ids;
      await loseAlarm(lost);

      const first = await reconcileExecutions(env, now);
      expect(first).toMatchObject({ checked: 2, rearmed: [], errors: [] });
      // Without the cursor this run would check the two oldest again and never reach the lost one.
      const second = await reconcileExecutions(env, now + 60_000);
      expect(second).toMatchObject({ checked: 2, rearmed: [lost], errors: [] });
      expect(await alarmOf(lost)).not.toBeNull();
      // The end of the rows: the next run starts over from the oldest.
      expect((await reconcileExecutions(env, now + 120_000)).checked).toBe(0);
      await loseAlarm(oldest);
      const again = await reconcileExecutions(env, now + 180_000);
      expect(again).toMatchObject({ checked: 2, rearmed: [oldest] });
    });
  }

  it("checks new stale rows that sort after the cursor in the same cycle", async () => {
    limits.RECONCILE_BATCH = 1;
    const now = Date.now();
    await seedRow("p-1", "pending", now - 3 * HOUR);
    await seedRow("p-2", "pending", now - 2 * HOUR);
    expect((await reconcileExecutions(env, now)).lost).toEqual(["p-1"]);
    await seedRow("p-3", "pending", now - HOUR);
    expect((await reconcileExecutions(env, now)).lost).toEqual(["p-2"]);
    expect((await reconcileExecutions(env, now)).lost).toEqual(["p-3"]);
  });

  it("orders ties on updated_at by id, so rows changed in the same millisecond are all reached", async () => {
    limits.RECONCILE_BATCH = 1;
    const at = Date.now() - HOUR;
    for (const id of ["tie-c", "tie-a", "tie-b"]) await seedRow(id, "starting", at);
    const lost = [];
    for (let i = 0; i < 3; i++) lost.push(...(await reconcileExecutions(env, Date.now())).lost);
    expect(lost).toEqual(["tie-a", "tie-b", "tie-c"]);
  });

  it("repairs a running execution at once, however many scheduled ones wait their turn", async () => {
    limits.RECONCILE_SCHEDULED_BATCH = 1;
    const now = Date.now();
    for (let i = 0; i < 3; i++) await seedRow(`backlog-${i}`, "scheduled", now - (10 - i) * HOUR);
    await seedRow("running-lost", "in_progress", now - HOUR); // the newest of all
    const report = await reconcileExecutions(env, now);
    expect(report.checked).toBe(2);
    expect(report.lost.sort()).toEqual(["backlog-0", "running-lost"]);
  });

  it("keeps the cursor in D1 between runs and clears it at the end", async () => {
    limits.RECONCILE_BATCH = 1;
    const now = Date.now();
    await seedRow("c-1", "pending", now - 2 * HOUR);
    await seedRow("c-2", "pending", now - HOUR);
    await reconcileExecutions(env, now);
    const cursor = () =>
      env.DB.prepare("SELECT after_updated, after_id FROM reconcile_cursors WHERE name = 'executions.running'").first();
    expect(await cursor()).toEqual({ after_updated: new Date(now - 2 * HOUR).toISOString(), after_id: "c-1" });
    await reconcileExecutions(env, now);
    await reconcileExecutions(env, now); // an empty page: the end
    expect(await cursor()).toEqual({ after_updated: null, after_id: null });
  });
});

describe("the page query", () => {
  it("reads each status through the (status, updated_at) index, never scanning the table", async () => {
    // Captures the statement the store really runs, then asks SQLite for its plan.
    let captured: { sql: string; args: unknown[] } | undefined;
    const capturing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            const stmt = target.prepare(sql);
            return new Proxy(stmt, {
              get(t, p) {
                if (p === "bind")
                  return (...args: unknown[]) => {
                    captured = { sql, args };
                    return t.bind(...args);
                  };
                const value = Reflect.get(t, p, t) as unknown;
                return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
              },
            });
          };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const after = { updated_at: new Date(Date.now() - DAY).toISOString(), id: "x" };
    await listStaleExecutionsPage(capturing, ["pending", "starting", "in_progress"], new Date().toISOString(), after, 5);
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${captured!.sql}`)
      .bind(...captured!.args)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail.toLowerCase());
    expect(details.filter((d) => d.includes("executions_status_updated"))).toHaveLength(3);
    expect(details.some((d) => /^scan executions\b/.test(d))).toBe(false);
  });
});

describe("marking an execution lost", () => {
  it("changes nothing when the row moved on since it was listed", async () => {
    const at = Date.now() - HOUR;
    await seedRow("moved-on", "pending", at);
    const listed = { id: "moved-on", org_id: "org-a", status: "pending", updated_at: new Date(at - 1).toISOString() };
    expect(await markExecutionLost(env.DB, listed, new Date().toISOString())).toBe(false);
    expect((await rowOf("moved-on"))?.status).toBe("pending");
    expect(await markExecutionLost(env.DB, { ...listed, updated_at: new Date(at).toISOString() }, new Date().toISOString())).toBe(
      true,
    );
    expect((await rowOf("moved-on"))?.status).toBe("failed");
  });
});
