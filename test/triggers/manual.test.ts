import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { LIMITS } from "../../src/lib/limits";
import { SINK, createFlow, createRecord, drive, sinkRequests, sinkReset } from "../support/engine";

beforeEach(sinkReset);

/** Every row of every table, to prove a request changed nothing. */
async function snapshotDb(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  const out: Record<string, unknown> = {};
  for (const { name } of tables.results) out[name] = (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results;
  return JSON.stringify(out);
}

describe("manual trigger", () => {
  it(
    "a run that has not settled within the wait is returned as running, and goes on to the end",
    { timeout: 30_000 },
    async () => {
      const flow = await createFlow({
        flow_name: "slow",
        actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/slow/2000` } }],
      });
      const limits = LIMITS as unknown as { MAX_SYNC_WAIT_MS: number };
      const saved = limits.MAX_SYNC_WAIT_MS;
      limits.MAX_SYNC_WAIT_MS = 200; // the webhook answers after 2 s
      let res;
      try {
        res = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: {} });
      } finally {
        limits.MAX_SYNC_WAIT_MS = saved;
      }
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("running");
      const exec = await drive(res.body.run_id);
      expect(exec.execution_status).toBe("success");
      expect(await sinkRequests("/slow/2000")).toHaveLength(1);
    },
  );

  it("runs the flow now on a record and returns the normalized run with inline results", async () => {
    const rec = await createRecord("lead", { name: "Lin", score: 80 });
    const flow = await createFlow({
      flow_name: "manual",
      actions: [
        {
          id: "a",
          type: "call_webhook",
          config: { url: `${SINK}/manual`, body: { who: "{{ record.name }}", by: "{{ user.id }}" } },
        },
      ],
    });
    const res = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: { record_id: rec._id } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "completed", actions_total: 1, actions_executed: 1 });
    expect(res.body.action_results[0]).toMatchObject({ action_id: "a", status: "success" });
    const [hit] = await sinkRequests("/manual");
    expect(JSON.parse(hit.body)).toEqual({ who: "Lin", by: "superuser" });
  });

  it("runs on test data, honours Idempotency-Key, and refuses unknown records and other orgs' flows", async () => {
    const flow = await createFlow({
      flow_name: "test-data",
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/td`, body: { v: "{{ record.v }}" } } }],
    });
    const first = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, {
      body: { test_data: { v: 7 } },
      headers: { "idempotency-key": "once" },
    });
    const again = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, {
      body: { test_data: { v: 7 } },
      headers: { "idempotency-key": "once" },
    });
    expect(first.status).toBe(200);
    expect(again.body.run_id).toBe(first.body.run_id);
    expect((await sinkRequests("/td")).map((r) => JSON.parse(r.body))).toEqual([{ v: 7 }]);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: { record_id: "nope" } })).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { org: "org-b", body: {} })).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: { surprise: 1 } })).status).toBe(400);
  });
});

describe("dry run", () => {
  it("evaluates conditions and renders actions without running or storing anything", async () => {
    const rec = await createRecord("deal", { name: "Acme", value: 50000, stage: "won" });
    const flow = await createFlow({
      flow_name: "dry",
      conditions: [
        { field: "stage", operator: "changed_to", value: "won" },
        {
          id: "big",
          statements: [
            {
              source: { origin: "trigger", attribute: "value", attributeType: "number" },
              operation: "greater_than",
              values: ["100000"],
            },
          ],
        },
      ],
      actions: [
        {
          id: "notify",
          type: "call_webhook",
          config: { url: `${SINK}/dry`, body: { text: "Won {{ record.name | uppercase }} for {{ record.value }}" } },
        },
        { id: "vip", type: "call_webhook", condition_id: "big", config: { url: `${SINK}/vip` } },
      ],
    });
    const before = await snapshotDb();
    const res = await call("POST", `/v1/automation/flows/${flow.id}/test`, {
      body: { record_id: rec._id, previous: { stage: "open" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.would_execute).toBe(true);
    expect(res.body.conditions_passed).toBe(false);
    expect(res.body.conditions_evaluated[0]).toMatchObject({ operator: "changed_to", passed: true, actual_value: "won" });
    expect(res.body.actions_preview[0]).toMatchObject({
      action_id: "notify",
      would_run: true,
      rendered_config: { body: { text: "Won ACME for 50000" } },
    });
    expect(res.body.actions_preview[1]).toMatchObject({ action_id: "vip", would_run: false, condition: { passed: false } });
    expect(await snapshotDb()).toBe(before);
    expect(await sinkRequests("/")).toEqual([]);

    const notWon = await call("POST", `/v1/automation/flows/${flow.id}/test`, {
      body: { test_data: { name: "x", stage: "open" } },
    });
    expect(notWon.body).toMatchObject({ would_execute: false, conditions_passed: false });
  });
  it("previews what the manual trigger then does: runs, skips, loop counts, schedule due times", async () => {
    const due = Date.now() + 30 * 86_400_000;
    const rec = await createRecord("order", {
      value: 50,
      items: [{ sku: "a" }, { sku: "b" }],
      renews: new Date(due).toISOString(),
    });
    const flow = await createFlow({
      flow_name: "dry-vs-trigger",
      conditions: [
        {
          id: "big",
          statements: [
            {
              source: { origin: "trigger", attribute: "value", attributeType: "number" },
              operation: "greater_than",
              values: ["100"],
            },
          ],
        },
      ],
      loops: [{ id: "each", source_path: "items" }],
      schedules: [
        {
          id: "renewal",
          numberOfUnits: 7,
          timePeriod: "days",
          timeRelation: "before",
          source: { id: "t", origin: "trigger", attribute: "renews" },
        },
      ],
      actions: [
        { id: "vip", type: "call_webhook", condition_id: "big", config: { url: `${SINK}/vip` } },
        { id: "per", type: "call_webhook", loop_id: "each", config: { url: `${SINK}/item/{{ loop.item.sku }}` } },
        { id: "remind", type: "call_webhook", schedule_id: "renewal", config: { url: `${SINK}/remind` } },
      ],
    });
    const dry = await call("POST", `/v1/automation/flows/${flow.id}/test`, { body: { record_id: rec._id } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ status: "success", complete: true });
    expect(await sinkRequests("/")).toEqual([]);

    const run = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: { record_id: rec._id } });
    expect(run.status).toBe(200);
    const exec = await drive(run.body.run_id);
    expect(exec.execution_status).toBe("scheduled"); // waiting for the reminder's due time
    const [vip, per, remind] = dry.body.actions_preview;
    expect([vip.would_run, vip.status, vip.skip_reason]).toEqual([false, "skipped", exec.actions[0].reason.message]);
    expect(per).toMatchObject({
      would_run: true,
      loop_items: exec.actions[1].loop_state.total,
      rendered_config: { url: `${SINK}/item/a` },
    });
    expect((await sinkRequests("/item")).map((r) => r.path)).toEqual(["/item/a", "/item/b"]);
    expect(remind).toMatchObject({
      would_run: true,
      scheduled_for: exec.actions[2].scheduled_for,
      runs_at: exec.actions[2].scheduled_for,
    });
    expect(remind.scheduled_for).toBe(new Date(due - 7 * 86_400_000).toISOString());
  });

  it("takes sample outputs of earlier actions, and refuses malformed ones", async () => {
    const flow = await createFlow({
      flow_name: "dry-samples",
      loops: [{ id: "rows", source_path: "actions.fetch.outputs.body.rows" }],
      actions: [
        { id: "fetch", type: "call_webhook", config: { url: `${SINK}/fetch` } },
        { id: "per", type: "call_webhook", loop_id: "rows", config: { url: `${SINK}/row/{{ loop.item.id }}` } },
      ],
    });
    const path = `/v1/automation/flows/${flow.id}/test`;
    const blind = await call("POST", path, { body: {} });
    expect(blind.body).toMatchObject({ status: "failed", would_execute: true });
    expect(blind.body.actions_preview[1]).toMatchObject({ would_run: false, error: { error_code: "INVALID_PAYLOAD" } });
    expect(blind.body.actions_preview[1].note).toContain("outputs.fetch");

    const sampled = await call("POST", path, { body: { outputs: { fetch: { body: { rows: [{ id: "x" }, { id: "y" }] } } } } });
    expect(sampled.status).toBe(200);
    expect(sampled.body.status).toBe("success");
    expect(sampled.body.actions_preview[1]).toMatchObject({
      would_run: true,
      loop_items: 2,
      rendered_config: { url: `${SINK}/row/x` },
    });

    const bad = await call("POST", path, { body: { outputs: { fetch: "not an object" } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("outputs");
    // The trigger route runs for real: sample outputs are not part of it.
    expect((await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: { outputs: {} } })).status).toBe(400);
    expect(await sinkRequests("/")).toEqual([]);
  });
});
