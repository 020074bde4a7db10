import {
  createExecutionContext,
  createScheduledController,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { LIMITS } from "../../src/lib/limits";
import { reconcileExecutions } from "../../src/services/reconcile";
import type { EntityOperationEvent } from "../../src/schemas/events";
import { call } from "../helpers";
import { SINK, createFlow, drive, executionStub, recordEvents, setClock, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

const DAY = 86_400_000;

async function runScheduled(now: number) {
  await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "* * * * *" }), env, createExecutionContext());
}

describe("reconciliation and retention", () => {
  it("re-arms an unfinished execution whose alarm was lost", async () => {
    const flow = await createFlow({
      flow_name: "lost-alarm",
      actions: [{ id: "d", type: "delay", config: { duration: 1, unit: "hours" } }],
    });
    const id = await startExec(flow.id);
    await drive(id);
    await runInDurableObject(executionStub(id), async (_o, state) => {
      await state.storage.deleteAlarm();
    });
    // The summary row says it has not moved for an hour.
    await env.DB.prepare("UPDATE executions SET status = 'in_progress', updated_at = ? WHERE id = ?")
      .bind(new Date(Date.now() - 3_600_000).toISOString(), id)
      .run();
    await runScheduled(Date.now());
    const alarm = await runInDurableObject(executionStub(id), (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });

  it("fails an index row whose object never received its execution", async () => {
    const id = crypto.randomUUID();
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await env.DB.prepare(
      `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at) VALUES (?, 'org-a', 'f', 'f', 1, 'e', 'pending', ?, ?)`,
    )
      .bind(id, old, old)
      .run();
    await runScheduled(Date.now());
    const res = await call("GET", `/v1/automation/executions?size=100`);
    const row = res.body.results.find((e: any) => e.id === id);
    expect(row.execution_status).toBe("failed");
    expect(row.error_output.error_reason).toMatch(/never started/);
  });

  it("prunes finished executions after the retention period: D1 by the scheduled handler, the object by its own alarm", async () => {
    const flow = await createFlow({
      flow_name: "prune",
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/prune` } }],
    });
    const id = await startExec(flow.id);
    const finished = await drive(id);
    expect(finished.execution_status).toBe("success");
    const later = Date.now() + 31 * DAY;
    await setClock(id, later);
    await runDurableObjectAlarm(executionStub(id)); // the object's prune timer is due: its storage is deleted
    expect(await executionStub(id).snapshot()).toBeNull();
    await runScheduled(later);
    expect((await call("GET", `/v1/automation/executions/${id}`)).status).toBe(404);
  });
});

describe("retention keeps up with a busy engine", () => {
  const limits = LIMITS as unknown as { PRUNE_BATCH: number; PRUNE_MAX_BATCHES: number };
  const saved = { batch: LIMITS.PRUNE_BATCH, max: LIMITS.PRUNE_MAX_BATCHES };

  async function seedExecution(id: string, status: string, updatedAt: number) {
    const at = new Date(updatedAt).toISOString();
    await env.DB.prepare(
      `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at, finished_at)
       VALUES (?, 'org-r', 'f', 'f', 1, 'e', ?, ?, ?, ?)`,
    )
      .bind(id, status, at, at, ["success", "failed"].includes(status) ? at : null)
      .run();
  }
  const countWhere = async (sql: string) => (await env.DB.prepare(sql).first<{ n: number }>())!.n;

  it("prunes in batches until done, at most PRUNE_MAX_BATCHES a run, and only what is old and settled", async () => {
    limits.PRUNE_BATCH = 3;
    limits.PRUNE_MAX_BATCHES = 2;
    try {
      const now = Date.now() + 400 * DAY; // far enough that every other test's rows are old too
      await env.DB.prepare("DELETE FROM executions").run();
      await env.DB.prepare("DELETE FROM idempotency_keys").run();
      for (let i = 0; i < 8; i++) await seedExecution(`old-${i}`, i % 2 ? "failed" : "success", now - 40 * DAY);
      await seedExecution("old-running", "in_progress", now - 40 * DAY); // unfinished: the watchdog's, not retention's
      await seedExecution("recent", "success", now - DAY);
      for (let i = 0; i < 5; i++) {
        await env.DB.prepare(
          "INSERT INTO idempotency_keys (org_id, scope, key, execution_id, created_at) VALUES ('org-r', 'start', ?, 'x', ?)",
        )
          .bind(`k-${i}`, now - 2 * DAY)
          .run();
      }
      await env.DB.prepare(
        "INSERT INTO idempotency_keys (org_id, scope, key, execution_id, created_at) VALUES ('org-r', 'start', 'fresh', 'x', ?)",
      )
        .bind(now - 60_000)
        .run();

      // Two batches of 3 this run, the remaining 2 the next: a prune that fell behind catches up.
      const first = await reconcileExecutions(env, now);
      expect(first).toMatchObject({ pruned: 6, pruned_keys: 5 });
      const second = await reconcileExecutions(env, now);
      expect(second).toMatchObject({ pruned: 2, pruned_keys: 0 });
      expect(await countWhere("SELECT COUNT(*) AS n FROM executions WHERE id LIKE 'old-%' AND id != 'old-running'")).toBe(0);
      expect(await countWhere("SELECT COUNT(*) AS n FROM executions WHERE id IN ('old-running', 'recent')")).toBe(2);
      expect(await countWhere("SELECT COUNT(*) AS n FROM idempotency_keys WHERE key = 'fresh'")).toBe(1);
    } finally {
      limits.PRUNE_BATCH = saved.batch;
      limits.PRUNE_MAX_BATCHES = saved.max;
    }
  });

  it("finds what to prune through indexes, not by scanning the tables", async () => {
    const plan = async (sql: string) =>
      JSON.stringify((await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()).results).toLowerCase();
    expect(
      await plan(
        "SELECT id FROM executions WHERE status IN ('success', 'failed', 'cancelled', 'skipped', 'hot') AND updated_at < '2026' LIMIT 5",
      ),
    ).toContain("executions_status_updated");
    expect(await plan("SELECT rowid FROM idempotency_keys WHERE created_at < 5 LIMIT 5")).toContain("idempotency_keys_created");
    expect(await plan("SELECT rowid FROM event_inbox WHERE created_at < '2026' AND state != 'queued' LIMIT 5")).toContain(
      "event_inbox_created",
    );
    expect(await plan("SELECT org_id FROM event_inbox WHERE state = 'queued' AND next_send_at < '2026' LIMIT 5")).toContain(
      "event_inbox_queued",
    );
  });
});

describe("API submissions", () => {
  it("enqueues an api_submission event that starts flows with a matching source id", async () => {
    const { sent, restore } = recordEvents({ deliver: true });
    try {
      await createFlow({
        flow_name: "submission",
        triggers: [{ type: "api_submission", configuration: { source_id: "form-1" } }],
        actions: [
          { id: "a", type: "call_webhook", config: { url: `${SINK}/submitted`, body: { email: "{{ trigger.payload.email }}" } } },
        ],
      });
      const res = await call("POST", "/v1/automation/submissions", {
        body: { source_id: "form-1", payload: { email: "a@example.com" }, event_id: "s-1" },
      });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ event_id: "sub:s-1", status: "accepted" });
      const { processEvent } = await import("../../src/queues/events");
      const outcome = await processEvent(env, sent[0] as EntityOperationEvent);
      expect(outcome.started.length).toBe(1);
      expect((await drive(outcome.started[0])).execution_status).toBe("success");
      expect((await call("POST", "/v1/automation/submissions", { body: { payload: "no" } })).status).toBe(400);
    } finally {
      restore();
    }
  });
});
