import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { EVENT_RESEND_AFTER_MS, MAX_EVENT_SENDS, prepareEvent } from "../../src/services/event-queue";
import { changeEvent, recordChangeEvents } from "../../src/services/record-events";
import { createRecord, deleteRecord, updateRecord } from "../../src/services/records";
import { deleteRecordRow, getRecord, insertRecord, updateRecordRow } from "../../src/store/records";
import { call } from "../helpers";
import { createFlow, drive, recordEvents, SINK, startExec } from "../support/engine";

/**
 * The event inbox: every trigger event is in D1 before its message is sent, and the per-minute
 * reconciliation sends again what was never processed (a lost message, a producer that died).
 */

interface InboxRow {
  state: string;
  sends: number;
  next_send_at: string;
}

const inboxRow = (id: string, org = "org-a") =>
  env.DB.prepare("SELECT state, sends, next_send_at FROM event_inbox WHERE org_id = ? AND id = ?")
    .bind(org, id)
    .first<InboxRow>();

const scheduled = (at: number) =>
  worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, createExecutionContext());

/** Delivers message bodies to the events consumer as one batch; returns the acked message ids. */
async function deliver(bodies: unknown[], attempts = 1): Promise<string[]> {
  const batch = createMessageBatch<unknown>(
    "automation-events",
    bodies.map((body, i) => ({ id: `m-${i}-${Math.random()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return (await getQueueResult(batch, ctx)).explicitAcks;
}

async function submissionFlow(sourceId: string) {
  return createFlow({
    flow_name: `inbox ${sourceId}`,
    triggers: [{ type: "api_submission", configuration: { source_id: sourceId } }],
    actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/inbox`, body: { n: "{{ trigger.payload.n }}" } } }],
  });
}

async function executionsOf(flowId: string): Promise<string[]> {
  const res = await call("GET", `/v1/automation/executions?flow_id=${flowId}&size=100`);
  expect(res.status).toBe(200);
  return (res.body.results as { id: string }[]).map((e) => e.id);
}

describe("the event inbox", () => {
  it("stores an accepted event before queueing it and marks it done once its executions exist", async () => {
    const flow = await submissionFlow("inbox-1");
    const { sent, restore } = recordEvents();
    try {
      const res = await call("POST", "/v1/automation/submissions", {
        body: { source_id: "inbox-1", payload: { n: 1 }, event_id: "i-1" },
      });
      expect(res.status).toBe(202);
      expect(await inboxRow("sub:i-1")).toMatchObject({ state: "queued", sends: 1 });
      expect(await deliver(sent)).toHaveLength(1);
      expect(await inboxRow("sub:i-1")).toMatchObject({ state: "done", sends: 1 });
      const ids = await executionsOf(flow.id);
      expect(ids).toHaveLength(1);
      expect((await drive(ids[0])).execution_status).toBe("success");
      // Nothing is sent again for a done event, however late the reconciliation runs.
      sent.length = 0;
      await scheduled(Date.now() + 10 * EVENT_RESEND_AFTER_MS);
      expect(sent.filter((m) => (m as { id?: string }).id === "sub:i-1")).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it("a message lost after the 202 is sent again by the reconciliation, by reference, and starts its execution once", async () => {
    const flow = await submissionFlow("inbox-2");
    const { sent, restore } = recordEvents(); // not delivered: the message is lost
    try {
      const t0 = Date.now();
      const res = await call("POST", "/v1/automation/submissions", {
        body: { source_id: "inbox-2", payload: { n: 2 }, event_id: "i-2" },
      });
      expect(res.status).toBe(202);
      sent.length = 0;
      // Before its first resend is due: nothing.
      await scheduled(t0 + EVENT_RESEND_AFTER_MS - 5_000);
      expect(sent.filter((m) => (m as { id?: string }).id === "sub:i-2")).toHaveLength(0);
      // Due: sent again as a reference to its inbox row.
      await scheduled(t0 + EVENT_RESEND_AFTER_MS + 5_000);
      const resent = sent.filter((m) => (m as { id?: string }).id === "sub:i-2");
      expect(resent).toEqual([{ type: "stored", id: "sub:i-2", org_id: "org-a", at: expect.any(String), depth: 0 }]);
      expect(await inboxRow("sub:i-2")).toMatchObject({ state: "queued", sends: 2 });
      // The original message turns up after all, then the resent one: one execution.
      const original = {
        id: "sub:i-2",
        org_id: "org-a",
        type: "api_submission",
        source_id: "inbox-2",
        payload: { n: 2 },
        at: new Date(t0).toISOString(),
        depth: 0,
      };
      await deliver([resent[0]]);
      await deliver([original]);
      expect(await executionsOf(flow.id)).toHaveLength(1);
      expect(await inboxRow("sub:i-2")).toMatchObject({ state: "done" });
    } finally {
      restore();
    }
  });

  it("waits twice as long before each resend and gives up after MAX_EVENT_SENDS sends, as a dead letter", async () => {
    await submissionFlow("inbox-3");
    const { sent, restore } = recordEvents();
    try {
      const t0 = Date.now();
      await call("POST", "/v1/automation/submissions", { body: { source_id: "inbox-3", payload: { n: 3 }, event_id: "i-3" } });
      let due = t0;
      for (let sends = 1; sends < MAX_EVENT_SENDS; sends++) {
        due += EVENT_RESEND_AFTER_MS * 2 ** (sends - 1);
        sent.length = 0;
        await scheduled(due - 10_000); // not yet
        expect(sent.filter((m) => (m as { id?: string }).id === "sub:i-3")).toHaveLength(0);
        await scheduled(due + 10_000);
        expect(sent.filter((m) => (m as { id?: string }).id === "sub:i-3")).toHaveLength(1);
        expect((await inboxRow("sub:i-3"))?.sends).toBe(sends + 1);
        due += 10_000;
      }
      sent.length = 0;
      await scheduled(due + EVENT_RESEND_AFTER_MS * 2 ** MAX_EVENT_SENDS);
      expect(sent).toHaveLength(0);
      expect(await inboxRow("sub:i-3")).toMatchObject({ state: "dead", sends: MAX_EVENT_SENDS });
      const dead = await env.DB.prepare("SELECT reason FROM dead_letters WHERE queue = 'automation-events' AND message_key = ?")
        .bind("sub:i-3")
        .first<{ reason: string }>();
      expect(dead?.reason).toBe(`Not processed after ${MAX_EVENT_SENDS} sends`);
    } finally {
      restore();
    }
  });

  it("an event that reached the dead-letter queue, or was invalid, is never sent again", async () => {
    const { sent, restore } = recordEvents();
    try {
      const t0 = Date.now();
      await call("POST", "/v1/automation/submissions", { body: { source_id: "inbox-4", payload: {}, event_id: "i-4" } });
      const dlq = createMessageBatch<unknown>("automation-events-dlq", [
        { id: "d-1", timestamp: new Date(), attempts: 6, body: sent[0] },
      ]);
      await worker.queue(dlq, env, createExecutionContext());
      expect(await inboxRow("sub:i-4")).toMatchObject({ state: "dead" });

      // An invalid event body (a producer bug) is dead at once.
      await env.DB.prepare(
        "INSERT INTO event_inbox (org_id, id, body, state, sends, next_send_at, created_at, updated_at) VALUES ('org-a', 'bad-1', '{}', 'queued', 1, ?, ?, ?)",
      )
        .bind(new Date(t0).toISOString(), new Date(t0).toISOString(), new Date(t0).toISOString())
        .run();
      expect(await deliver([{ id: "bad-1", org_id: "org-a", type: "nonsense" }])).toHaveLength(1);
      expect(await inboxRow("bad-1")).toMatchObject({ state: "dead" });

      sent.length = 0;
      await scheduled(t0 + 100 * EVENT_RESEND_AFTER_MS);
      expect(sent.filter((m) => ["sub:i-4", "bad-1"].includes((m as { id: string }).id))).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it("a trigger-event action stores its event in the inbox under the action's idempotency key", async () => {
    const flow = await createFlow({
      flow_name: "inbox trigger-event",
      actions: [{ id: "t", type: "trigger-event", config: { event_name: "inbox.named", event_inputs: { a: 1 } } }],
    });
    const { sent, restore } = recordEvents();
    try {
      const exec = await drive(await startExec(flow.id));
      expect(exec.execution_status).toBe("success");
      const id = `evt:${exec.execution_id ?? exec.id}:t`;
      expect(sent.map((m) => (m as { id: string }).id)).toEqual([id]);
      expect(await inboxRow(id)).toMatchObject({ state: "queued", sends: 1 });
    } finally {
      restore();
    }
  });

  it("keeps the inbox per organization: the same event id in two orgs is two events", async () => {
    const a = await submissionFlow("inbox-5");
    const b = await createFlow(
      {
        flow_name: "inbox 5 b",
        triggers: [{ type: "api_submission", configuration: { source_id: "inbox-5" } }],
        actions: [],
      },
      "org-b",
    );
    const { sent, restore } = recordEvents();
    try {
      for (const org of ["org-a", "org-b"]) {
        const res = await call("POST", "/v1/automation/submissions", {
          org,
          body: { source_id: "inbox-5", payload: {}, event_id: "same" },
        });
        expect(res.status).toBe(202);
      }
      expect(await inboxRow("sub:same", "org-a")).toMatchObject({ state: "queued" });
      expect(await inboxRow("sub:same", "org-b")).toMatchObject({ state: "queued" });
      await deliver(sent);
      expect(await executionsOf(a.id)).toHaveLength(1);
      const other = await call("GET", `/v1/automation/executions?flow_id=${b.id}`, { org: "org-b" });
      expect(other.body.results).toHaveLength(1);
      expect(await inboxRow("sub:same", "org-a")).toMatchObject({ state: "done" });
      expect(await inboxRow("sub:same", "org-b")).toMatchObject({ state: "done" });
    } finally {
      restore();
    }
  });

  it("writes every record event to the inbox, in the D1 batch of the record write", async () => {
    const { sent, restore } = recordEvents();
    try {
      const rec = await call("POST", "/v1/entities/inbox_contact", { body: { name: "Ada" } });
      expect(rec.status).toBe(201);
      const id = (sent[0] as { id: string }).id;
      expect(await inboxRow(id)).toMatchObject({ state: "queued", sends: 1 });
      const patch = await call("PATCH", `/v1/entities/inbox_contact/${rec.body._id}`, { body: { name: "Ada L." } });
      expect(patch.status).toBe(200);
      const del = await call("DELETE", `/v1/entities/inbox_contact/${rec.body._id}`);
      expect(del.status).toBe(200);
      const ops = await env.DB.prepare(
        "SELECT json_extract(body, '$.operation') AS op FROM event_inbox WHERE org_id = 'org-a' AND json_extract(body, '$.entity_id') = ? ORDER BY created_at",
      )
        .bind(rec.body._id)
        .all<{ op: string }>();
      expect(ops.results.map((r) => r.op)).toEqual(["createEntity", "updateEntity", "deleteEntity"]);
    } finally {
      restore();
    }
  });

  it("prunes settled events after the retention period and keeps queued ones", async () => {
    const { sent, restore } = recordEvents();
    try {
      await call("POST", "/v1/automation/submissions", { body: { source_id: "inbox-7", payload: {}, event_id: "old-done" } });
      await call("POST", "/v1/automation/submissions", { body: { source_id: "inbox-7", payload: {}, event_id: "old-queued" } });
      await deliver([sent[0]]);
      expect(await inboxRow("sub:old-done")).toMatchObject({ state: "done" });
      await scheduled(Date.now() + 8 * 86_400_000);
      expect(await inboxRow("sub:old-done")).toBeNull();
      expect(await inboxRow("sub:old-queued")).not.toBeNull();
    } finally {
      restore();
    }
  });

  it("a record written by a Worker that died before sending its event still starts its flow", async () => {
    const flow = await createFlow({
      flow_name: "inbox died",
      triggers: [{ type: "record.created", configuration: { module: "inbox_died" } }],
      actions: [],
    });
    const { sent, restore } = recordEvents();
    try {
      const t0 = Date.now();
      // The write and its inbox row, then nothing: the event's send never happens.
      const result = await createRecord(env.DB, "org-a", "api", "inbox_died", { name: "Grace" }, recordChangeEvents(env));
      expect(sent).toHaveLength(0);
      expect(await inboxRow(result.event!.id)).toMatchObject({ state: "queued", sends: 1 });
      await scheduled(t0 + EVENT_RESEND_AFTER_MS + 5_000);
      const resent = sent.filter((m) => (m as { id: string }).id === result.event!.id);
      expect(resent).toHaveLength(1);
      await deliver(resent);
      const list = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`);
      expect(list.body.results).toHaveLength(1);
      expect(list.body.results[0].entity_id).toBe(result.record!._id);
    } finally {
      restore();
    }
  });

  it("a record write that loses a race or fails writes no event", async () => {
    const { record } = await createRecord(env.DB, "org-a", "api", "inbox_race", { name: "v1" });
    const row = (await getRecord(env.DB, "org-a", "inbox_race", record!._id))!;
    const prepared = (name: string) => {
      const change = { ...changeOf(record!._id), entity: { name } };
      return prepareEvent(env, change);
    };
    const changeOf = (id: string) =>
      changeEvent({
        operation: "updateEntity",
        org_id: "org-a",
        schema: "inbox_race",
        entity_id: id,
        actor: "api",
        at: new Date().toISOString(),
        before: null,
        after: null,
        diff: { added: {}, updated: { name: "x" }, deleted: {} },
        previous: {},
      } as never)!;
    // A stale version: no update, no event.
    const stale = prepared("stale");
    const next = { title: "", tags: [], data: { name: "v2" }, updated_at: new Date().toISOString() };
    expect(await updateRecordRow(env.DB, "org-a", row.id, row.version + 5, next, [stale.insertIfChanged])).toBe(false);
    expect(await inboxRow(stale.id)).toBeNull();
    // The current version: both.
    const fresh = prepared("fresh");
    expect(await updateRecordRow(env.DB, "org-a", row.id, row.version, next, [fresh.insertIfChanged])).toBe(true);
    expect(await inboxRow(fresh.id)).toMatchObject({ state: "queued" });
    // A delete of a stale version: nothing; of the current one: both.
    const staleDelete = prepared("gone?");
    expect(await deleteRecordRow(env.DB, "org-a", "inbox_race", row.id, row.version, [staleDelete.insertIfChanged])).toBe(false);
    expect(await inboxRow(staleDelete.id)).toBeNull();
    expect(await getRecord(env.DB, "org-a", "inbox_race", row.id)).not.toBeNull();
    const realDelete = prepared("gone");
    expect(await deleteRecordRow(env.DB, "org-a", "inbox_race", row.id, row.version + 1, [realDelete.insertIfChanged])).toBe(
      true,
    );
    expect(await inboxRow(realDelete.id)).toMatchObject({ state: "queued" });
    // An insert that fails (the id exists) rolls its event back with it.
    const dup = prepared("dup");
    const existing = (await createRecord(env.DB, "org-a", "api", "inbox_race", { name: "kept" })).record!;
    const again = { ...row, id: existing._id, version: 1 };
    await expect(insertRecord(env.DB, again, [dup.insert])).rejects.toThrow();
    expect(await inboxRow(dup.id)).toBeNull();
  });

  it("the service's update and delete write one event each, and a patch that changes nothing writes none", async () => {
    const events = recordChangeEvents(env);
    const created = await createRecord(env.DB, "org-a", "api", "inbox_svc", { name: "a" }, events);
    const same = await updateRecord(env.DB, "org-a", "api", "inbox_svc", created.record!._id, { name: "a" }, events);
    expect(same.event).toBeNull();
    const changed = await updateRecord(env.DB, "org-a", "api", "inbox_svc", created.record!._id, { name: "b" }, events);
    const removed = await deleteRecord(env.DB, "org-a", "api", "inbox_svc", created.record!._id, events);
    for (const r of [created, changed, removed]) expect(await inboxRow(r.event!.id)).toMatchObject({ state: "queued" });
    const n = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM event_inbox WHERE org_id = 'org-a' AND json_extract(body, '$.entity_id') = ?",
    )
      .bind(created.record!._id)
      .first<{ n: number }>();
    expect(n?.n).toBe(3);
    await expect(deleteRecord(env.DB, "org-a", "api", "inbox_svc", created.record!._id, events)).rejects.toMatchObject({
      status: 404,
    });
  });
});
