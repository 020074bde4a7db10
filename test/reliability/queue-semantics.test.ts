import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { TriggerEvent } from "../../src/schemas/events";
import { createFlow } from "../support/engine";

/** Cloudflare's settings for the events queue (wrangler.toml): deliveries before a message is dead. */
const MAX_RETRIES = 5;
const BATCH = 25;

/** A deterministic shuffle (so a failure can be replayed). */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

interface Delivery {
  id: string;
  body: TriggerEvent;
  attempts: number;
}

describe("events queue under at-least-once delivery", () => {
  it("1,000 events with 10% delivered twice, 5% out of order and 1% that always fail: one execution per event, failures dead-lettered with their reason", async () => {
    const good = await createFlow({
      flow_name: "queue-good",
      triggers: [{ type: "event", configuration: { event_name: "q.good" } }],
      actions: [],
    });
    const bad = await createFlow({
      flow_name: "queue-bad",
      triggers: [{ type: "event", configuration: { event_name: "q.bad" } }],
      actions: [],
    });
    // The bad flow's stored document is corrupt: loading it throws on every delivery (a real fault path).
    await env.DB.prepare("UPDATE flows SET doc = '{not json' WHERE id = ?").bind(bad.id).run();

    const random = rng(42);
    const events: TriggerEvent[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `q-${i}`,
      org_id: "org-a",
      at: new Date().toISOString(),
      depth: 0,
      type: "event",
      event_name: i % 100 === 99 ? "q.bad" : "q.good",
      payload: { i },
    }));
    let queue: Delivery[] = events.map((e, i) => ({ id: `m-${i}`, body: e, attempts: 1 }));
    // 10% delivered twice (a second copy later in the stream).
    for (let i = 0; i < 100; i++) {
      const e = events[Math.floor(random() * events.length)];
      queue.push({ id: `dup-${i}`, body: e, attempts: 1 });
    }
    // 5% out of order: swap pairs far apart.
    for (let i = 0; i < 50; i++) {
      const a = Math.floor(random() * queue.length);
      const b = Math.floor(random() * queue.length);
      [queue[a], queue[b]] = [queue[b], queue[a]];
    }

    const dead: Delivery[] = [];
    let deliveries = 0;
    while (queue.length > 0) {
      const retry: Delivery[] = [];
      for (let i = 0; i < queue.length; i += BATCH) {
        const slice = queue.slice(i, i + BATCH);
        const batch = createMessageBatch<unknown>(
          "automation-events",
          slice.map((d) => ({ id: d.id, timestamp: new Date(), attempts: d.attempts, body: d.body })),
        );
        const ctx = createExecutionContext();
        await worker.queue(batch, env, ctx);
        const result = await getQueueResult(batch, ctx);
        deliveries += slice.length;
        const retried = new Set(result.retryMessages.map((m) => m.msgId));
        expect(result.explicitAcks.length + retried.size).toBe(slice.length);
        for (const d of slice) {
          if (!retried.has(d.id)) continue;
          if (d.attempts >= MAX_RETRIES) dead.push(d);
          else retry.push({ ...d, attempts: d.attempts + 1 });
        }
      }
      queue = retry;
    }
    // What the platform does with messages over max_retries: deliver them to the dead-letter queue.
    const dlqBatch = createMessageBatch<unknown>(
      "automation-events-dlq",
      dead.map((d) => ({ id: d.id, timestamp: new Date(), attempts: d.attempts, body: d.body })),
    );
    await worker.queue(dlqBatch, env, createExecutionContext());

    const rows = await env.DB.prepare("SELECT id FROM executions WHERE org_id = 'org-a' AND flow_id = ?")
      .bind(good.id)
      .all<{ id: string }>();
    expect(rows.results.length).toBe(990); // one execution per good event, none twice
    const badRows = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE flow_id = ?")
      .bind(bad.id)
      .first<{ n: number }>();
    expect(badRows?.n).toBe(0);
    const letters = await env.DB.prepare(
      "SELECT message_key, reason FROM dead_letters WHERE queue = 'automation-events' AND message_key LIKE 'q-%'",
    ).all<{
      message_key: string;
      reason: string;
    }>();
    expect(new Set(letters.results.map((l) => l.message_key))).toEqual(
      new Set(events.filter((e) => e.type === "event" && e.event_name === "q.bad").map((e) => e.id)),
    );
    for (const l of letters.results) expect(l.reason).toMatch(/JSON|Unexpected|token/i);
    console.log(
      `queue semantics: ${deliveries} deliveries, ${rows.results.length} executions, ${letters.results.length} dead letters`,
    );
  }, 180_000);
});

describe("a consumer that dies half-way through a batch", () => {
  it("loses nothing and duplicates nothing when the whole batch is delivered again", async () => {
    const flow = await createFlow({
      flow_name: "crash-batch",
      triggers: [{ type: "event", configuration: { event_name: "crash.batch" } }],
      actions: [],
    });
    const events: TriggerEvent[] = Array.from({ length: 20 }, (_, i) => ({
      id: `cb-${i}`,
      org_id: "org-a",
      at: new Date().toISOString(),
      depth: 0,
      type: "event",
      event_name: "crash.batch",
      payload: {},
    }));
    // First delivery: the runtime dies after the first half (no acks reach the platform).
    const firstHalf = createMessageBatch<unknown>(
      "automation-events",
      events.slice(0, 10).map((e, i) => ({ id: `c${i}`, timestamp: new Date(), attempts: 1, body: e })),
    );
    await worker.queue(firstHalf, env, createExecutionContext());
    // The platform redelivers the whole batch.
    const again = createMessageBatch<unknown>(
      "automation-events",
      events.map((e, i) => ({ id: `c${i}`, timestamp: new Date(), attempts: 2, body: e })),
    );
    const ctx = createExecutionContext();
    await worker.queue(again, env, ctx);
    expect((await getQueueResult(again, ctx)).explicitAcks.length).toBe(20);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM executions WHERE flow_id = ?").bind(flow.id).first<{ n: number }>();
    expect(n?.n).toBe(20);
  });
});
