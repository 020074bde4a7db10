import { beforeEach, describe, expect, it } from "vitest";
import { apiKey, call } from "../../helpers";
import { SINK, sinkRequests, sinkReset } from "../../support/engine";
import { TP, createAutomation, newOrg, tp } from "./support";

/** TrustPager (seed 003) automations: create, get, list, patch, delete, enable/disable, trigger, runs, scopes. */

beforeEach(sinkReset);

describe("TrustPager automations", () => {
  it("creates with name and trigger_type; the same flow is visible through the native API", async () => {
    const org = newOrg();
    const created = await createAutomation(org, { name: "Welcome", trigger_type: "form_completed", description: "d" });
    expect(created).toMatchObject({
      name: "Welcome",
      description: "d",
      trigger_type: "form_completed",
      stage_id: null,
      conditions: [],
      enabled: true,
      triggers: [],
      actions: [],
      run_count: 0,
      last_run_at: null,
    });
    expect(created.x_native).toBeUndefined();
    const native = await call("GET", `/v1/automation/flows/${created.id}`, { org });
    expect(native.status).toBe(200);
    expect(native.body.flow_name).toBe("Welcome");
    expect(native.body.triggers.map((t: any) => t.type)).toEqual(["manual", "frontend_submission"]);
    expect((await tp(org).get(`/${created.id}`)).body).toEqual(created);
  });

  it("name and trigger_type are required; wrong types and unknown fields are 400", async () => {
    const org = newOrg();
    const missing = await tp(org).post("", { trigger_type: "manual" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: any) => d.path)).toContain("name");
    expect((await tp(org).post("", { name: "x" })).body.error.details.map((d: any) => d.path)).toContain("trigger_type");
    expect((await tp(org).post("", { name: 5, trigger_type: "manual" })).status).toBe(400);
    expect((await tp(org).post("", { name: "x", trigger_type: "manual", bogus: 1 })).status).toBe(400);
    expect((await tp(org).post("", { name: "x", trigger_type: "nope" })).status).toBe(400);
    const bad = await call("POST", TP, { org, rawBody: "{oops", headers: { "content-type": "application/json" } });
    expect([bad.status, bad.body.error.code]).toEqual([400, "MALFORMED_REQUEST"]);
  });

  it('refuses form_submitted with a 400 that says to use "form_completed"', async () => {
    const res = await tp(newOrg()).post("", { name: "old", trigger_type: "form_submitted" });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ path: "trigger_type" });
    expect(res.body.error.details[0].message).toContain('use "form_completed"');
  });

  it("stage_changed takes stage_id on the automation (required) and becomes a field.changed trigger with changed_to", async () => {
    const org = newOrg();
    const noStage = await tp(org).post("", { name: "s", trigger_type: "stage_changed" });
    expect(noStage.status).toBe(400);
    expect(noStage.body.error.details[0].path).toBe("stage_id");
    const a = await createAutomation(org, { name: "Won", trigger_type: "stage_changed", stage_id: "won" });
    expect(a).toMatchObject({ trigger_type: "stage_changed", stage_id: "won", conditions: [] });
    const native = (await call("GET", `/v1/automation/flows/${a.id}`, { org })).body;
    expect(native.triggers).toContainEqual({
      id: "tp_stage",
      type: "field.changed",
      configuration: { module: "deals", field: "stage_id" },
    });
    expect(native.conditions).toEqual([{ id: "tp_stage", field: "stage_id", operator: "changed_to", value: "won" }]);
  });

  it("PATCH is partial; conditions: null removes all conditions", async () => {
    const org = newOrg();
    const a = await createAutomation(org, {
      name: "c",
      trigger_type: "manual",
      conditions: [{ field: "score", operator: "greater_than", value: 50 }],
    });
    expect(a.conditions).toEqual([{ field: "score", operator: "greater_than", value: 50 }]);
    const renamed = await tp(org).patch(`/${a.id}`, { name: "renamed" });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "renamed", trigger_type: "manual", conditions: [{ field: "score" }] });
    const cleared = await tp(org).patch(`/${a.id}`, { conditions: null });
    expect(cleared.body.conditions).toEqual([]);
    expect((await call("GET", `/v1/automation/flows/${a.id}`, { org })).body.conditions ?? []).toEqual([]);
    expect((await tp(org).patch(`/${a.id}`, { trigger_type: "form_submitted" })).status).toBe(400);
    expect((await tp(org).patch(`/${a.id}`, { conditions: [{ field: "x", operator: "nope" }] })).status).toBe(400);
    expect((await tp(org).patch(`/${a.id}`, { enabled: "yes" })).status).toBe(400);
  });

  it("lists the company's automations with a total, and pages", async () => {
    const org = newOrg();
    for (const name of ["one", "two", "three"]) await createAutomation(org, { name, trigger_type: "manual" });
    const all = await tp(org).get();
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.data.map((a: any) => a.name).sort()).toEqual(["one", "three", "two"]);
    const page = await tp(org).get("?limit=2&offset=2");
    expect(page.body.data).toHaveLength(1);
    expect((await tp(org).get("?limit=0")).status).toBe(400);
  });

  it("enable and disable; delete removes the automation with its triggers and actions", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "t", trigger_type: "manual", enabled: false });
    expect(a.enabled).toBe(false);
    expect((await tp(org).post(`/${a.id}/enable`)).body.enabled).toBe(true);
    const off = await tp(org).post(`/${a.id}/disable`);
    expect(off.body.enabled).toBe(false);
    expect((await call("GET", `/v1/automation/flows/${a.id}`, { org })).body.disable_details).toMatchObject({
      disabled_by: "user",
    });
    const del = await tp(org).del(`/${a.id}`);
    expect(del.body).toEqual({ id: a.id, deleted: true });
    expect((await tp(org).get(`/${a.id}`)).status).toBe(404);
    expect((await tp(org).del(`/${a.id}`)).status).toBe(404);
  });

  it("unknown ids and another organization's ids are 404 on every automation endpoint", async () => {
    const owner = newOrg();
    const a = await createAutomation(owner, { name: "mine", trigger_type: "manual" });
    const other = tp(newOrg());
    for (const id of [a.id, "does-not-exist"]) {
      expect((await other.get(`/${id}`)).status).toBe(404);
      expect((await other.patch(`/${id}`, { name: "x" })).status).toBe(404);
      expect((await other.post(`/${id}/enable`)).status).toBe(404);
      expect((await other.post(`/${id}/disable`)).status).toBe(404);
      expect((await other.post(`/${id}/trigger`, {})).status).toBe(404);
      expect((await other.get(`/${id}/runs`)).status).toBe(404);
      expect((await other.get(`/${id}/triggers`)).status).toBe(404);
      expect((await other.get(`/${id}/actions`)).status).toBe(404);
      expect((await other.del(`/${id}`)).status).toBe(404);
    }
    expect((await tp(owner).get(`/${a.id}`)).status).toBe(200);
  });

  it("round trip: create, add an action, trigger with test data, the run is listed and readable", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "rt", trigger_type: "manual" });
    const action = await tp(org).post(`/${a.id}/actions`, {
      action_type: "call_webhook",
      sequence: 1,
      config: { url: `${SINK}/tp-rt`, body: { name: "{{ record.name }}" } },
    });
    expect(action.status).toBe(201);
    const run = await tp(org).post(`/${a.id}/trigger`, { test_data: { name: "Ada" } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      automation_id: a.id,
      status: "completed",
      actions_total: 1,
      actions_executed: 1,
      actions_failed: 0,
      actions_skipped: 0,
      truncated: false,
    });
    expect(run.body.action_results[0]).toMatchObject({ action_type: "call_webhook", status: "success", error: null });
    expect(run.body.action_results[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect((await sinkRequests("/tp-rt"))[0].body).toContain("Ada");
    const runs = await tp(org).get(`/${a.id}/runs`);
    expect(runs.body).toMatchObject({ total: 1, data: [{ run_id: run.body.run_id, status: "completed", automation_id: a.id }] });
    const one = await tp(org).get(`/runs/${run.body.run_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ run_id: run.body.run_id, action_results: [{ action_type: "call_webhook" }] });
    expect((await tp(org).get(`/${a.id}`)).body.run_count).toBe(1);
    expect((await tp(newOrg()).get(`/runs/${run.body.run_id}`)).status).toBe(404);
    expect((await tp(org).get(`/runs/nope`)).status).toBe(404);
  });

  it('runs whose conditions are not met are "skipped"; runs filter by status', async () => {
    const org = newOrg();
    const a = await createAutomation(org, {
      name: "cond",
      trigger_type: "manual",
      conditions: [{ field: "score", operator: "greater_than", value: 50 }],
    });
    await tp(org).post(`/${a.id}/actions`, { action_type: "call_webhook", sequence: 1, config: { url: `${SINK}/tp-skip` } });
    const low = await tp(org).post(`/${a.id}/trigger`, { test_data: { score: 10 } });
    expect(low.body).toMatchObject({ status: "skipped", actions_executed: 0 });
    const high = await tp(org).post(`/${a.id}/trigger`, { test_data: { score: 90 } });
    expect(high.body.status).toBe("completed");
    const skipped = await tp(org).get(`/${a.id}/runs?status=skipped`);
    expect(skipped.body.data.map((r: any) => r.run_id)).toEqual([low.body.run_id]);
    expect((await tp(org).get(`/${a.id}/runs?status=bogus`)).status).toBe(400);
    expect(await sinkRequests("/tp-skip")).toHaveLength(1);
  });

  it("a disabled automation cannot be triggered (409); bad trigger bodies are 400, an unknown record 404", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "off", trigger_type: "manual", enabled: false });
    const res = await tp(org).post(`/${a.id}/trigger`, {});
    expect([res.status, res.body.error.code]).toEqual([409, "FLOW_DISABLED"]);
    expect((await tp(org).post(`/${a.id}/trigger`, { test_data: "x" })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/trigger`, { record_id: "missing" })).status).toBe(404);
  });

  it("scopes: read for GETs, write for changes, trigger for /trigger; none is 401", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "s", trigger_type: "manual" });
    const reader = await apiKey(org, ["automations:read"]);
    const writer = await apiKey(org, ["automations:write"]);
    const trigger = await apiKey(org, ["automations:trigger"]);
    expect((await call("GET", TP, { token: reader })).status).toBe(200);
    expect((await call("GET", TP, { token: null })).status).toBe(401);
    expect((await call("POST", TP, { token: reader, body: { name: "x", trigger_type: "manual" } })).status).toBe(403);
    expect((await call("POST", TP, { token: writer, body: { name: "x", trigger_type: "manual" } })).status).toBe(201);
    expect((await call("PATCH", `${TP}/${a.id}`, { token: trigger, body: { name: "y" } })).status).toBe(403);
    expect((await call("POST", `${TP}/${a.id}/trigger`, { token: writer, body: {} })).status).toBe(403);
    expect((await call("POST", `${TP}/${a.id}/trigger`, { token: trigger, body: {} })).status).toBe(200);
    expect((await call("GET", `${TP}/${a.id}/runs`, { token: trigger })).status).toBe(403);
    expect(
      (await call("POST", `${TP}/${a.id}/actions`, { token: reader, body: { action_type: "delay", sequence: 1 } })).status,
    ).toBe(403);
  });

  it("a flow made natively that TrustPager cannot express is shown with x_native and refuses writes with 409", async () => {
    const org = newOrg();
    const flow = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "native",
        triggers: [{ type: "entity_operation", configuration: { schema: "contact", operations: ["createEntity"] } }],
        actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/native` } }],
      },
    });
    const view = await tp(org).get(`/${flow.body.id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ trigger_type: "native", name: "native" });
    expect(view.body.x_native.triggers[0].type).toBe("entity_operation");
    const patch = await tp(org).patch(`/${flow.body.id}`, { name: "renamed" });
    expect([patch.status, patch.body.error.code]).toEqual([409, "NOT_EXPRESSIBLE"]);
    expect(
      (await tp(org).post(`/${flow.body.id}/actions`, { action_type: "delay", sequence: 2, config: { duration: 1 } })).status,
    ).toBe(409);
    // Enable/disable and delete need no translation and work on any flow.
    expect((await tp(org).post(`/${flow.body.id}/disable`)).body.enabled).toBe(false);
  });
});
