import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { call } from "../helpers";
import { CONFIGS, connect, driveIn } from "../integrations/support";
import { SINK, createFlow, createRecord, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";
import { modelConnection, runOne } from "../ai/support";
import { ledger } from "./support";

/** The ledger of side effects: GET /v1/automation/executions/{id}/effects, built from the attempt rows. */

beforeEach(sinkReset);

let n = 0;
const org = () => `ledger-${++n}`;

describe("the ledger", () => {
  it("lists every kind of effect an execution caused, once per attempt, in order, with target, key, attempt and outcome", async () => {
    const o = org();
    const t0 = Date.parse("2026-03-02T09:00:00Z");
    await connect("slack", CONFIGS.slack, o);
    await connect("resend", CONFIGS.resend, o);
    await connect("twilio", CONFIGS.twilio, o);
    const rec = await createRecord("contact", { name: "Ada", email: "ada@example.com" }, o);
    const child = await createFlow({ flow_name: "child", actions: [] }, o);
    const flow = await createFlow(
      {
        flow_name: "every effect",
        actions: [
          {
            id: "web",
            name: "Notify CRM",
            type: "call_webhook",
            retry_policy: { max_attempts: 2, backoff_seconds: [60] },
            config: { url: `${SINK}/flaky/1/ledger-${o}?token=secret`, body: { id: "{{ record._id }}" } },
          },
          { id: "chat", type: "integration", config: { platform: "slack", action: "post_message", params: { text: "hi" } } },
          { id: "mail", type: "send_email", config: { to: "{{ record.email }}", subject: "Hi", body: "Hello" } },
          {
            id: "sms",
            type: "integration",
            config: { platform: "twilio", action: "send_sms", params: { to: "+15005550006", body: "hi" } },
          },
          { id: "new", type: "create_record", config: { module: "ticket", data: { title: "from {{ record.name }}" } } },
          { id: "upd", type: "update_record", config: { record: "trigger", updates: { status: "contacted" } } },
          { id: "kid", type: "trigger-workflow", config: { target_workflow: child.id } },
          { id: "evt", type: "trigger-event", config: { event_name: "contacted" } },
          { id: "note", type: "send_notification", config: { user_id: "u1", title: "Ada was contacted" } },
          { id: "wait", type: "delay", config: { duration: 1, unit: "seconds" } },
        ],
      },
      o,
    );
    const id = await startExec(flow.id, rec._id, o);
    expect((await driveIn(id, o, t0)).execution_status).toBe("in_progress"); // the webhook waits for its retry
    expect((await driveIn(id, o, t0 + 120_000)).execution_status).toBe("scheduled"); // the delay
    const exec = await driveIn(id, o, t0 + 200_000);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => [a.id, a.error_output]))).toBe("success");

    const l = await ledger(id, o);
    const rows = l.effects.map((e: any) => [e.action_id, e.attempt, e.kind, e.target, e.outcome]);
    expect(rows).toEqual([
      ["web", 1, "http", `sink.test/flaky/1/ledger-${o}`, "failed"],
      ["web", 2, "http", `sink.test/flaky/1/ledger-${o}`, "ok"],
      ["chat", 1, "provider", "slack.post_message", "ok"],
      ["mail", 1, "email", "resend.send_email", "ok"],
      ["sms", 1, "sms", "twilio.send_sms", "ok"],
      ["new", 1, "record", "ticket", "ok"],
      ["upd", 1, "record", `contact/${rec._id}`, "ok"],
      ["kid", 1, "execution", `flow/${child.id}`, "ok"],
      ["evt", 1, "event", "event/contacted", "ok"],
      ["note", 1, "notification", "user/u1", "ok"],
    ]);
    // The delay caused nothing; every other attempt made exactly one entry.
    const attempts = exec.actions.flatMap((a: any) => a.attempts.map((t: any) => `${a.id}#${t.attempt}`));
    expect(attempts.filter((a: string) => !a.startsWith("wait#"))).toEqual(
      l.effects.map((e: any) => `${e.action_id}#${e.attempt}`),
    );
    expect(l.effects.map((e: any) => e.seq)).toEqual([...l.effects.keys()]);

    const [first, retry] = l.effects;
    expect(first).toMatchObject({ action_name: "Notify CRM", action_type: "call_webhook", method: "POST", status: 500 });
    expect(first.idempotency_key).toBe(`${id}:web`);
    expect(first.repeats_idempotency_key).toBe(false);
    expect(retry).toMatchObject({ idempotency_key: `${id}:web`, repeats_idempotency_key: true, dedupe: "receiver", status: 200 });
    expect(JSON.stringify(l)).not.toContain("secret"); // the query is not part of the target
    // Unnamed actions are named by their id.
    expect(l.effects[2]).toMatchObject({ action_name: "chat", dedupe: "none", idempotency_key: null, requests: 1 });
    expect(l.effects[3]).toMatchObject({ idempotency_key: `${id}:mail`, dedupe: "receiver" });
    const created = exec.actions.find((a: any) => a.id === "new").outputs.record_id;
    expect(l.effects[5]).toMatchObject({ ref: created, operation: "created", dedupe: "none" });
    const childId = exec.actions.find((a: any) => a.id === "kid").outputs.execution_id;
    expect(l.effects[7]).toMatchObject({ ref: childId, operation: "started", dedupe: "engine" });
    expect(l.effects[8]).toMatchObject({ ref: `evt:${id}:evt`, dedupe: "engine" });
    expect(l.effects[9]).toMatchObject({ operation: "created", dedupe: "engine" });

    // What the sink received is what the ledger says was sent over HTTP.
    expect((await sinkRequests(`/flaky/1/ledger-${o}`)).length).toBe(2);
    expect(l.totals).toMatchObject({ effects: 10, repeated_idempotency_keys: 1 });
    expect(l.totals.by_target[0]).toEqual({ kind: "http", target: `sink.test/flaky/1/ledger-${o}`, count: 2, repeated: 1 });
    expect(l.totals.by_target).toHaveLength(9);
  });

  it("pages through the entries with from/size and keeps the totals of the whole ledger", async () => {
    const flow = await createFlow({
      flow_name: "three",
      actions: ["a", "b", "c"].map((x) => ({ id: x, type: "call_webhook", config: { url: `${SINK}/page/${x}` } })),
    });
    const id = await startExec(flow.id);
    await driveIn(id, "org-a");
    const page = await call("GET", `/v1/automation/executions/${id}/effects?from=1&size=1`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 3, from: 1, size: 1, next_from: 2, totals: { effects: 3 } });
    expect(page.body.effects.map((e: any) => [e.seq, e.target])).toEqual([[1, "sink.test/page/b"]]);
    const last = await call("GET", `/v1/automation/executions/${id}/effects?from=2`);
    expect(last.body.next_from).toBeNull();
    for (const bad of ["size=0", "size=5000", "from=-1", "size=x"]) {
      expect((await call("GET", `/v1/automation/executions/${id}/effects?${bad}`)).status, bad).toBe(400);
    }
  });

  it("a request the outbound policy refuses, or a config the action refuses, is no effect", async () => {
    const flow = await createFlow({
      flow_name: "refused",
      actions: [
        { id: "blocked", type: "call_webhook", allow_failure: true, config: { url: "{{ 'http://' }}127.0.0.1/x" } },
        { id: "bad", type: "create_record", allow_failure: true, config: { module: "{{ entity.nothing }}", data: {} } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await driveIn(id, "org-a");
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["failed", "failed"]);
    expect((await ledger(id)).effects).toEqual([]);
  });

  it("an attempt in flight when the runtime died is in the ledger with its planned effect, outcome unknown, and the retry repeats its key", async () => {
    const flow = await createFlow({
      flow_name: "crash",
      actions: [{ id: "slow", type: "call_webhook", config: { url: `${SINK}/slow/400`, timeout_ms: 5000 } }],
    });
    const id = await startExec(flow.id);
    const running = runDurableObjectAlarm(executionStub(id)).catch((e: unknown) => e);
    for (let i = 0; i < 500 && (await sinkRequests("/slow")).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await abortAllDurableObjects();
    await running;
    expect((await driveIn(id, "org-a")).execution_status).toBe("success");
    const l = await ledger(id);
    expect(l.effects.map((e: any) => [e.attempt, e.outcome, e.repeats_idempotency_key])).toEqual([
      [1, "unknown", false],
      [2, "ok", true],
    ]);
    expect(l.effects[0]).toMatchObject({ kind: "http", target: "sink.test/slow/400", idempotency_key: `${id}:slow` });
  });

  it("an attempt row written before effects were recorded derives its entry from the request; a model call declares its tokens", async () => {
    const flow = await createFlow({
      flow_name: "legacy",
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/legacy` } }],
    });
    const id = await startExec(flow.id);
    await driveIn(id, "org-a");
    await runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) => {
      const sql = state.storage.sql;
      // As layout 2 left it: no effects column value.
      sql.exec(`UPDATE attempts SET effects = NULL`);
      // What an AI step records for a model call (its action returns `effects`).
      sql.exec(
        `INSERT INTO attempts (action_id, iteration, attempt, started_at, ended_at, outcome, effects) VALUES ('h', -1, 9, 1, 2, 'success', ?)`,
        JSON.stringify([
          {
            kind: "model",
            target: "openai/gpt-4o-mini",
            idempotency_key: null,
            dedupe: "none",
            tokens: { input: 120, output: 30 },
          },
        ]),
      );
    });
    const l = await ledger(id);
    expect(l.effects.map((e: any) => [e.kind, e.target, e.attempt])).toEqual([
      ["model", "openai/gpt-4o-mini", 9],
      ["http", "sink.test/legacy", 1],
    ]);
    expect(l.effects[1]).toMatchObject({ method: "POST", idempotency_key: `${id}:h`, outcome: "ok" });
    expect(l.totals.model_tokens).toBe(150);
  });

  it("an AI step's model call is in the ledger with its provider, model, key and tokens (from the attempt it records)", async () => {
    const conn = await modelConnection("ledger");
    const exec = await runOne({ type: "ai_generate", config: { connection_id: conn.id, prompt: "Say hi" } });
    expect(exec.execution_status).toBe("success");
    const usage = exec.actions[0].outputs.usage;
    const l = await ledger(exec.id);
    expect(l.effects).toHaveLength(1);
    expect(l.effects[0]).toMatchObject({
      kind: "model",
      target: expect.stringMatching(/\/scripted$/),
      idempotency_key: `${exec.id}:ai`,
      dedupe: "receiver",
      outcome: "ok",
      tokens: { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens },
    });
    expect(l.totals.model_tokens).toBe(usage.total_tokens);
  });

  it("is 404 for an unknown execution and for another org's", async () => {
    const flow = await createFlow({ flow_name: "mine", actions: [] }, "org-a");
    const id = await startExec(flow.id);
    expect((await call("GET", `/v1/automation/executions/${id}/effects`, { org: "org-b" })).status).toBe(404);
    expect((await call("GET", `/v1/automation/executions/${crypto.randomUUID()}/effects`)).status).toBe(404);
  });
});
