import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { apiKey, call, type CallOptions } from "../helpers";
import { createFlow, drive, recordEvents, SINK, sinkRequests } from "../support/engine";

/**
 * The intake endpoint (POST /v1/automation/events) is the event source of the epilot triggers nothing in
 * the engine produces. Each accepted event goes through the inbox and the events queue like any other.
 */

const PATH = "/v1/automation/events";

/** Delivers message bodies to the events consumer as one batch. */
async function deliver(bodies: unknown[]): Promise<void> {
  const batch = createMessageBatch<unknown>(
    "automation-events",
    bodies.map((body, i) => ({ id: `m-${i}-${Math.random()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

/** Posts an event, expects 202, then runs the events consumer on what was queued. */
async function post(body: unknown, opts: CallOptions = {}): Promise<string> {
  const { sent, restore } = recordEvents();
  try {
    const res = await call("POST", PATH, { body, ...opts });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^in:/), status: "accepted" });
    await deliver(sent);
    return res.body.event_id as string;
  } finally {
    restore();
  }
}

const flowWith = (trigger: Record<string, unknown>, org = "org-a", hook = "intake") =>
  createFlow(
    {
      flow_name: `intake ${String(trigger.type)}`,
      triggers: [trigger],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/${hook}`, body: { v: "{{ trigger.payload.v }}" } } }],
    },
    org,
  );

async function executionsOf(flowId: string, org = "org-a"): Promise<{ id: string }[]> {
  const res = await call("GET", `/v1/automation/executions?flow_id=${flowId}&size=100`, { org });
  expect(res.status).toBe(200);
  return res.body.results as { id: string }[];
}

const count = async (flowId: string, org = "org-a") => (await executionsOf(flowId, org)).length;

/** For each type: a matching trigger, an event that fires it, and an event of the same type that does not. */
const CASES: { type: string; configuration: Record<string, unknown>; fires: object; misses: object }[] = [
  {
    type: "frontend_submission",
    configuration: { source_id: "form-1" },
    fires: { source_id: "form-1" },
    misses: { source_id: "form-2" },
  },
  {
    type: "journey_submission",
    configuration: { source_id: "journey-1" },
    fires: { source_id: "journey-1" },
    misses: { source_id: "journey-2" },
  },
  {
    type: "activity",
    configuration: { schema: "meter", types: ["CreateMeterReading"] },
    fires: { activity_type: "CreateMeterReading", schema: "meter" },
    misses: { activity_type: "UpdateMeterReading", schema: "meter" },
  },
  {
    type: "received_email",
    configuration: { message_type: "RECEIVED" },
    fires: {},
    misses: null as unknown as object,
  },
  {
    type: "new_email_thread",
    configuration: { direction: "INBOUND", shared_inbox_ids: ["inbox-1"] },
    fires: { direction: "INBOUND", shared_inbox_id: "inbox-1" },
    misses: { direction: "OUTBOUND", shared_inbox_id: "inbox-1" },
  },
  {
    type: "flows_trigger",
    configuration: { journey_id: "j-1" },
    fires: { journey_id: "j-1" },
    misses: { journey_id: "j-2" },
  },
];

describe("the intake endpoint fires the epilot triggers that had no event source", () => {
  for (const c of CASES) {
    it(`${c.type}: a matching event starts the flow with its payload; ${c.misses ? "a non-matching one does not" : "every message type matches"}`, async () => {
      const flow = await flowWith({ type: c.type, configuration: c.configuration }, "org-a", `intake-${c.type}`);
      if (c.misses) {
        await post({ type: c.type, ...c.misses, payload: { v: 0 } });
        expect(await count(flow.id)).toBe(0);
      }
      await post({ type: c.type, ...c.fires, payload: { v: 5 }, entity_id: "rec-1" });
      const execs = await executionsOf(flow.id);
      expect(execs).toHaveLength(1);
      const exec = await drive(execs[0].id);
      expect(exec.execution_status).toBe("success");
      expect(exec.entity_id).toBe("rec-1");
      const hits = await sinkRequests(`/intake-${c.type}`);
      expect(hits.map((h) => JSON.parse(h.body))).toEqual([{ v: 5 }]);
    });
  }

  it("triggers without a key fire for any source; a journey trigger needs its journey", async () => {
    const anyForm = await flowWith({ type: "frontend_submission", configuration: {} });
    const anyWorkflow = await flowWith({ type: "flows_trigger" });
    const bothWays = await flowWith({ type: "new_email_thread", configuration: { direction: "BOTH" } });
    await post({ type: "frontend_submission", source_id: "whatever" });
    await post({ type: "frontend_submission" });
    await post({ type: "flows_trigger", journey_id: "j-9" });
    await post({ type: "new_email_thread", direction: "OUTBOUND" });
    await post({ type: "new_email_thread", direction: "INBOUND", shared_inbox_id: "x" });
    expect(await count(anyForm.id)).toBe(2);
    expect(await count(anyWorkflow.id)).toBe(1);
    expect(await count(bothWays.id)).toBe(2);
  });

  it("a new_email_thread trigger with shared inboxes ignores threads of other inboxes or none", async () => {
    const flow = await flowWith({ type: "new_email_thread", configuration: { direction: "BOTH", shared_inbox_ids: ["a", "b"] } });
    await post({ type: "new_email_thread", direction: "INBOUND", shared_inbox_id: "c" });
    await post({ type: "new_email_thread", direction: "INBOUND" });
    expect(await count(flow.id)).toBe(0);
    await post({ type: "new_email_thread", direction: "OUTBOUND", shared_inbox_id: "b" });
    expect(await count(flow.id)).toBe(1);
  });

  it("an event of one type does not fire another type's trigger", async () => {
    const journey = await flowWith({ type: "journey_submission", configuration: { source_id: "shared-id" } });
    await post({ type: "frontend_submission", source_id: "shared-id" });
    expect(await count(journey.id)).toBe(0);
  });

  it("activity triggers honour include_activities and exclude_activities", async () => {
    const included = await flowWith({ type: "activity", configuration: { include_activities: ["DocDownloadedFromPortal"] } });
    const excluded = await flowWith({ type: "activity", configuration: { exclude_activities: ["DocDownloadedFromPortal"] } });
    const otherSchema = await flowWith({ type: "activity", configuration: { schema: "contract" } });
    await post({ type: "activity", activity_type: "DocDownloadedFromPortal", schema: "contact" });
    await post({ type: "activity", activity_type: "PortalUserResetPassword", schema: "contact" });
    expect(await count(included.id)).toBe(1);
    expect(await count(excluded.id)).toBe(1);
    expect(await count(otherSchema.id)).toBe(0);
    const excludedRuns = await executionsOf(excluded.id);
    const exec = await call("GET", `/v1/automation/executions/${excludedRuns[0].id}`);
    expect(exec.body.trigger_event).toMatchObject({
      type: "activity",
      activity_type: "PortalUserResetPassword",
      schema: "contact",
    });
  });

  it("a retried POST with the same event_id or Idempotency-Key fires once", async () => {
    const flow = await flowWith({ type: "flows_trigger", configuration: { journey_id: "retry" } });
    const first = await post({ type: "flows_trigger", journey_id: "retry", event_id: "evt-1" });
    const again = await post({ type: "flows_trigger", journey_id: "retry", event_id: "evt-1" });
    expect(again).toBe(first);
    expect(first).toBe("in:evt-1");
    const h1 = await post({ type: "flows_trigger", journey_id: "retry" }, { headers: { "idempotency-key": "k-1" } });
    const h2 = await post(
      { type: "flows_trigger", journey_id: "retry", event_id: "k-1" },
      { headers: { "idempotency-key": "k-1" } },
    );
    expect(h2).toBe(h1);
    expect(await count(flow.id)).toBe(2);
    // Without an id, every POST is its own event.
    await post({ type: "flows_trigger", journey_id: "retry" });
    expect(await count(flow.id)).toBe(3);
  });

  it("does not fire another organization's flow", async () => {
    const foreign = await flowWith({ type: "journey_submission", configuration: { source_id: "j-org" } }, "org-b");
    await post({ type: "journey_submission", source_id: "j-org" }, { org: "org-a" });
    expect(await count(foreign.id, "org-b")).toBe(0);
    await post({ type: "journey_submission", source_id: "j-org" }, { org: "org-b" });
    expect(await count(foreign.id, "org-b")).toBe(1);
  });

  it("refuses bad input with 400 and queues nothing", async () => {
    const { sent, restore } = recordEvents();
    try {
      const bad: unknown[] = [
        { type: "email_bounced" },
        { source_id: "x" },
        { type: "journey_submission" },
        { type: "journey_submission", source_id: 7 },
        { type: "activity" },
        { type: "new_email_thread", direction: "BOTH" },
        { type: "received_email", message_type: "SENT" },
        { type: "frontend_submission", payload: "not an object" },
        { type: "frontend_submission", unknown_field: 1 },
        { type: "flows_trigger", event_id: "" },
      ];
      for (const body of bad) {
        const res = await call("POST", PATH, { body });
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      const malformed = await call("POST", PATH, { rawBody: "{not json", headers: { "content-type": "application/json" } });
      expect(malformed.status).toBe(400);
      const mismatch = await call("POST", PATH, {
        body: { type: "flows_trigger", event_id: "a" },
        headers: { "idempotency-key": "b" },
      });
      expect(mismatch.status).toBe(400);
      expect(sent).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it("needs the automations:trigger scope and credentials", async () => {
    const readOnly = await apiKey("org-a", ["automations:read"]);
    expect((await call("POST", PATH, { token: readOnly, body: { type: "flows_trigger" } })).status).toBe(403);
    expect((await call("POST", PATH, { token: null, body: { type: "flows_trigger" } })).status).toBe(401);
    const flow = await flowWith({ type: "received_email", configuration: {} });
    const trigger = await apiKey("org-a", ["automations:trigger"]);
    await post({ type: "received_email" }, { token: trigger });
    expect(await count(flow.id)).toBe(1);
  });
});
