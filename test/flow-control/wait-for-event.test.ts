import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { processEvent } from "../../src/queues/events";
import type { NamedEvent, TriggerEvent } from "../../src/schemas/events";
import { prepareEvent } from "../../src/services/event-queue";
import { call } from "../helpers";
import { SINK, createFlow, drive, getExecution, recordEvents, sinkRequests, sinkReset } from "../support/engine";

beforeEach(sinkReset);

/** wait_for_event end to end: the index, lookback, delivery from the events consumer, any/all, timeouts, custom events. */

let n = 0;
/** A named (custom) event as the intake endpoint makes it, `ago` ms before now. */
function named(name: string, payload: Record<string, unknown>, ago = 0, org = "org-a"): NamedEvent {
  n++;
  return {
    id: `in:test-${n}-${Math.random()}`,
    org_id: org,
    at: new Date(Date.now() - ago).toISOString(),
    depth: 0,
    type: "event",
    event_name: name,
    payload,
    entity_id: null,
    source: { kind: "custom" },
  };
}

/** What the producers do: the event goes to the inbox; then the consumer processes it (the queue is left out). */
async function emit(event: TriggerEvent) {
  await prepareEvent(env, event).insert.run();
  return processEvent(env, event);
}

/** Each test's flows start on an event of their own (flows of earlier tests stay in the file's database). */
let trigger = "order.created";
beforeEach(() => {
  trigger = `order.created.${Math.random().toString(36).slice(2)}`;
});

/** A flow started by the test's `order.created` that waits for `order.paid` of the same order, then calls the sink with it. */
async function waitingFlow(wait: Record<string, unknown>, org = "org-a") {
  return createFlow(
    {
      flow_name: `wait-${Math.random()}`,
      triggers: [{ type: "event", configuration: { event_name: trigger } }],
      actions: [
        { id: "w", type: "wait_for_event", config: { timeout: "1h", ...wait } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after`, body: { got: "{{ actions.w.outputs }}" } } },
      ],
    },
    org,
  );
}

const byOrder = { event: "order.paid", correlate: { event_path: "payload.order_id", value: "{{ trigger.payload.order_id }}" } };

async function startFor(order: string, org = "org-a"): Promise<string> {
  const out = await emit(named(trigger, { order_id: order }, 0, org));
  expect(out.started.length).toBe(1);
  return out.started[0];
}

describe("wait_for_event", () => {
  it("an event after the wait resumes it with {event}; another order's event does not", async () => {
    await waitingFlow(byOrder);
    const id = await startFor("o-100");
    const waiting = await drive(id);
    expect(waiting.execution_status).toBe("paused");
    expect(waiting.actions[0]).toMatchObject({
      execution_status: "paused",
      waiting_for_event: { events: ["order.paid"], mode: "any" },
    });
    const { results } = await env.DB.prepare(`SELECT match_key FROM event_waits WHERE execution_id = ?`).bind(id).all();
    expect(results).toEqual([{ match_key: "payload.order_id=o-100" }]);

    expect((await emit(named("order.paid", { order_id: "o-999" }))).delivered).toBe(0);
    expect((await getExecution(id)).execution_status).toBe("paused");

    const paid = named("order.paid", { order_id: "o-100", amount: 40 });
    expect((await emit(paid)).delivered).toBe(1);
    const done = await drive(id);
    expect(done.execution_status).toBe("success");
    expect(done.actions[0].outputs.event).toMatchObject({
      name: "order.paid",
      payload: { order_id: "o-100", amount: 40 },
      event_id: paid.id,
    });
    expect(JSON.parse(String((await sinkRequests("/after"))[0].body))).toMatchObject({
      got: { event: { payload: { order_id: "o-100" } } },
    });
    // The wait left the index; a redelivery of the same event finds nothing and changes nothing.
    expect((await env.DB.prepare(`SELECT COUNT(*) AS c FROM event_waits WHERE execution_id = ?`).bind(id).first())!.c).toBe(0);
    expect((await emit(paid)).delivered).toBe(0);
  });

  it("an event that came before the wait counts within the lookback, not outside it", async () => {
    await waitingFlow({ ...byOrder, lookback: "5m" });
    await emit(named("order.paid", { order_id: "o-200" }, 60_000));
    await emit(named("order.paid", { order_id: "o-201" }, 600_000));
    const within = await drive(await startFor("o-200"));
    expect(within.execution_status).toBe("success");
    expect(within.actions[0].outputs.event.payload.order_id).toBe("o-200");
    const outside = await drive(await startFor("o-201"));
    expect(outside.execution_status).toBe("paused");
  });

  it("no event: on the engine's clock, the timeout ends it ({timed_out: true}, or failed with on_timeout fail)", async () => {
    await waitingFlow(byOrder);
    const id = await startFor("o-300");
    expect((await drive(id)).execution_status).toBe("paused");
    expect((await drive(id, Date.now() + 30 * 60_000)).execution_status).toBe("paused");
    const done = await drive(id, Date.now() + 61 * 60_000);
    expect(done.execution_status).toBe("success");
    expect(done.actions[0].outputs).toEqual({ timed_out: true });

    trigger = `${trigger}.fail`;
    await waitingFlow({ ...byOrder, event: "order.refunded", on_timeout: "fail" });
    const failing = await startFor("o-301");
    await drive(failing);
    const failed = await drive(failing, Date.now() + 2 * 3_600_000);
    expect(failed.execution_status).toBe("failed");
    expect(failed.actions.find((a: any) => a.id === "w").error_output.error_code).toBe("TIMEOUT_ERROR");
  });

  it("several events: `all` waits for each (in spec order), `any` for the first", async () => {
    const specs = [byOrder, { event: "order.shipped", correlate: byOrder.correlate }];
    const allFlow = await waitingFlow({ events: specs, mode: "all" });
    const all = await startFor("o-400");
    await drive(all);
    await emit(named("order.shipped", { order_id: "o-400", carrier: "dhl" }));
    expect((await drive(all)).execution_status).toBe("paused");
    await emit(named("order.paid", { order_id: "o-400" }));
    const done = await drive(all);
    expect(done.execution_status).toBe("success");
    expect(done.actions[0].outputs.events.map((e: any) => e.name)).toEqual(["order.paid", "order.shipped"]);
    await call("DELETE", `/v1/automation/flows/${allFlow.id}`);

    await waitingFlow({ events: specs, mode: "any" });
    const any = await startFor("o-401");
    await drive(any);
    await emit(named("order.shipped", { order_id: "o-401" }));
    const first = await drive(any);
    expect(first.execution_status).toBe("success");
    expect(first.actions[0].outputs.events.map((e: any) => e.name)).toEqual(["order.shipped"]);
  });

  it("`if` filters the events of a spec", async () => {
    await waitingFlow({ ...byOrder, if: [{ field: "payload.amount", operator: "greater_than", value: 100 }] });
    const id = await startFor("o-500");
    await drive(id);
    expect((await emit(named("order.paid", { order_id: "o-500", amount: 50 }))).delivered).toBe(0);
    expect((await emit(named("order.paid", { order_id: "o-500", amount: 500 }))).delivered).toBe(1);
    expect((await drive(id)).actions[0].outputs.event.payload.amount).toBe(500);
  });

  it("a cancelled wait leaves the index; another org's event never reaches it", async () => {
    await waitingFlow(byOrder);
    await waitingFlow(byOrder, "org-b");
    const id = await startFor("o-600");
    await drive(id);
    expect((await emit(named("order.paid", { order_id: "o-600" }, 0, "org-b"))).delivered).toBe(0);
    expect((await call("DELETE", `/v1/automation/executions/${id}`)).status).toBe(200);
    expect((await env.DB.prepare(`SELECT COUNT(*) AS c FROM event_waits WHERE execution_id = ?`).bind(id).first())!.c).toBe(0);
    expect((await emit(named("order.paid", { order_id: "o-600" }))).delivered).toBe(0);
  });

  it("a record event: wait for entity_operation on the same record", async () => {
    await createFlow({
      flow_name: "record-wait",
      triggers: [{ type: "event", configuration: { event_name: trigger } }],
      actions: [
        {
          id: "w",
          type: "wait_for_event",
          config: {
            event: "entity_operation",
            correlate: { event_path: "entity_id", value: "{{ trigger.payload.record }}" },
            if: [{ field: "entity.stage", operator: "equals", value: "won" }],
            timeout: "1d",
          },
        },
      ],
    });
    const rec = await call("POST", "/v1/entities/deal", { body: { stage: "open" } });
    expect(rec.status).toBe(201);
    const out = await emit(named(trigger, { record: rec.body._id }));
    const id = out.started[0];
    await drive(id);
    const capture = recordEvents();
    try {
      await call("PATCH", `/v1/entities/deal/${rec.body._id}`, { body: { stage: "won" } });
    } finally {
      capture.restore();
    }
    const change = capture.sent.find((e: any) => e.type === "entity_operation") as TriggerEvent;
    expect((await processEvent(env, change)).delivered).toBe(1);
    const done = await drive(id);
    expect(done.execution_status).toBe("success");
    expect(done.actions[0].outputs.event).toMatchObject({
      type: "entity_operation",
      name: "entity_operation",
      entity: { stage: "won" },
    });
  });

  it("a custom event posted to the intake endpoint", async () => {
    await waitingFlow(byOrder);
    const id = await startFor("o-700");
    await drive(id);
    const capture = recordEvents();
    let res;
    try {
      res = await call("POST", "/v1/automation/events", {
        body: { type: "custom", name: "order.paid", payload: { order_id: "o-700" }, event_id: "pay-700" },
      });
    } finally {
      capture.restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({ event_id: "in:pay-700", status: "accepted" });
    const sent = capture.sent[0] as TriggerEvent;
    expect(sent).toMatchObject({ type: "event", event_name: "order.paid", source: { kind: "custom" } });
    expect((await processEvent(env, sent)).delivered).toBe(1);
    expect((await drive(id)).execution_status).toBe("success");
  });

  it("a custom event with a reserved or malformed name is a 400", async () => {
    for (const name of ["webhook", "{{ x }}", "", "a b"]) {
      const res = await call("POST", "/v1/automation/events", { body: { type: "custom", name, payload: {} } });
      expect(res.status, name).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
  });
});

describe("wait_for_event config on save", () => {
  const save = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    call("POST", "/v1/automation/flows", {
      body: {
        flow_name: "bad",
        triggers: [{ type: "manual" }],
        actions: [{ id: "w", type: "wait_for_event", config, ...extra }],
        ...(extra.loop_id ? { loops: [{ id: "l", source_path: "entity.items" }] } : {}),
      },
    });
  const fields = (res: { body: any }) => res.body.error.details.map((d: any) => d.path);

  it("names each bad field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ event: "order.paid", timeout: "366d" }, "actions.0.config.timeout"],
      [{ event: "order.paid", timeout: "1 hour" }, "actions.0.config.timeout"],
      [{ event: "{{ trigger.name }}", timeout: "1h" }, "actions.0.config.event"],
      [{ event: "order.paid", timeout: "1h", lookback: "8d" }, "actions.0.config.lookback"],
      [{ timeout: "1h" }, "actions.0.config.event"],
      [{ event: "a", events: [{ event: "b" }], timeout: "1h" }, "actions.0.config.event"],
      [
        { event: "a", timeout: "1h", correlate: { event_path: "payload..x", value: "1" } },
        "actions.0.config.correlate.event_path",
      ],
      [{ events: [{ event: "a" }], mode: "some", timeout: "1h" }, "actions.0.config.mode"],
    ];
    for (const [config, path] of cases) {
      const res = await save(config);
      expect(res.status, JSON.stringify(config)).toBe(400);
      expect(fields(res), JSON.stringify(config)).toContain(path);
    }
  });

  it("cannot run in a loop", async () => {
    const res = await save({ event: "a", timeout: "1h" }, { loop_id: "l" });
    expect(res.status).toBe(400);
    expect(fields(res)).toContain("actions.0.loop_id");
  });
});
