import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../../helpers";
import { SINK, sinkRequests, sinkReset } from "../../support/engine";
import { createAutomation, newOrg, tp } from "./support";

/** TrustPager (seed 003) triggers and actions sub-resources, reorder, and executing one action in isolation. */

beforeEach(sinkReset);

describe("TrustPager triggers", () => {
  it("source_type auto-populates from the automation's trigger_type; rows list, patch and delete", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "forms", trigger_type: "form_completed" });
    const added = await tp(org).post(`/${a.id}/triggers`, { source_id: "form-42" });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ automation_id: a.id, source_type: "form_completed", source_id: "form-42", config: {} });
    expect(Date.parse(added.body.created_at)).not.toBeNaN();
    const native = (await call("GET", `/v1/automation/flows/${a.id}`, { org })).body;
    // The any-form default is replaced by the row's own form.
    expect(native.triggers.map((t: any) => [t.type, t.configuration?.source_id])).toEqual([
      ["manual", undefined],
      ["frontend_submission", "form-42"],
    ]);
    const override = await tp(org).post(`/${a.id}/triggers`, { source_type: "record_created", source_id: "contacts" });
    expect(override.body.source_type).toBe("record_created");
    const list = await tp(org).get(`/${a.id}/triggers`);
    expect(list.body.data.map((t: any) => t.id)).toEqual([added.body.id, override.body.id]);
    const patched = await tp(org).patch(`/${a.id}/triggers/${added.body.id}`, { source_id: "form-43" });
    expect(patched.body).toMatchObject({ id: added.body.id, source_id: "form-43", created_at: added.body.created_at });
    expect((await tp(org).del(`/${a.id}/triggers/${override.body.id}`)).body).toEqual({ id: override.body.id, deleted: true });
    expect((await tp(org).get(`/${a.id}/triggers`)).body.data).toHaveLength(1);
    expect((await tp(org).del(`/${a.id}/triggers/${override.body.id}`)).status).toBe(404);
    expect((await tp(org).patch(`/${a.id}/triggers/nope`, { source_id: "x" })).status).toBe(404);
  });

  it("a stage_changed trigger row is a 400 that points at stage_id; form_submitted and unknown types are 400", async () => {
    const org = newOrg();
    const stage = await createAutomation(org, { name: "stage", trigger_type: "stage_changed", stage_id: "won" });
    const row = await tp(org).post(`/${stage.id}/triggers`, {});
    expect(row.status).toBe(400);
    expect(row.body.error.message).toContain("stage_id");
    expect((await tp(org).post(`/${stage.id}/triggers`, { source_type: "stage_changed" })).status).toBe(400);
    const a = await createAutomation(org, { name: "m", trigger_type: "manual" });
    const old = await tp(org).post(`/${a.id}/triggers`, { source_type: "form_submitted" });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toContain("form_completed");
    expect((await tp(org).post(`/${a.id}/triggers`, { source_type: "bogus" })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/triggers`, { source_type: "record_created" })).body.error.details[0].path).toBe(
      "triggers.0.source_id",
    );
    expect((await tp(org).post(`/${a.id}/triggers`, { source_type: "schedule", config: { cron: "nope" } })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/triggers`, { config: "x" })).status).toBe(400);
    const sched = await tp(org).post(`/${a.id}/triggers`, { source_type: "schedule", config: { cron: "0 9 * * 1-5" } });
    expect(sched.body).toMatchObject({ source_type: "schedule", config: { cron: "0 9 * * 1-5" } });
  });

  it("another organization's automation or trigger is 404", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "f", trigger_type: "form_completed" });
    const row = (await tp(org).post(`/${a.id}/triggers`, { source_id: "f1" })).body;
    const other = tp(newOrg());
    expect((await other.post(`/${a.id}/triggers`, { source_id: "f2" })).status).toBe(404);
    expect((await other.patch(`/${a.id}/triggers/${row.id}`, { source_id: "f2" })).status).toBe(404);
    expect((await other.del(`/${a.id}/triggers/${row.id}`)).status).toBe(404);
  });
});

describe("TrustPager actions", () => {
  it("action_type and sequence are required; lists are ordered by sequence; patch and delete", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "acts", trigger_type: "manual" });
    expect((await tp(org).post(`/${a.id}/actions`, { action_type: "delay" })).body.error.details[0].path).toBe("sequence");
    expect((await tp(org).post(`/${a.id}/actions`, { sequence: 1 })).body.error.details[0].path).toBe("action_type");
    expect((await tp(org).post(`/${a.id}/actions`, { action_type: "teleport", sequence: 1 })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/actions`, { action_type: "delay", sequence: "1" })).status).toBe(400);
    const bad = await tp(org).post(`/${a.id}/actions`, {
      action_type: "call_webhook",
      sequence: 1,
      config: { url: "not a url" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("actions.0.config.url");
    const second = await tp(org).post(`/${a.id}/actions`, {
      action_type: "delay",
      sequence: 20,
      name: "wait",
      config: { duration: 5 },
    });
    const first = await tp(org).post(`/${a.id}/actions`, {
      action_type: "call_webhook",
      sequence: 10,
      config: { url: `${SINK}/a` },
    });
    expect(second.body).toMatchObject({ automation_id: a.id, action_type: "delay", sequence: 20, name: "wait" });
    const list = await tp(org).get(`/${a.id}/actions`);
    expect(list.body.data.map((x: any) => [x.id, x.sequence])).toEqual([
      [first.body.id, 10],
      [second.body.id, 20],
    ]);
    const native = (await call("GET", `/v1/automation/flows/${a.id}`, { org })).body;
    expect(native.actions.map((x: any) => x.id)).toEqual([first.body.id, second.body.id]);
    const moved = await tp(org).patch(`/${a.id}/actions/${first.body.id}`, { sequence: 30 });
    expect(moved.body.sequence).toBe(30);
    expect((await tp(org).get(`/${a.id}/actions`)).body.data.map((x: any) => x.id)).toEqual([second.body.id, first.body.id]);
    expect((await tp(org).patch(`/${a.id}/actions/${first.body.id}`, { config: { url: "ftp://x" } })).status).toBe(400);
    expect((await tp(org).del(`/${a.id}/actions/${second.body.id}`)).body).toEqual({ id: second.body.id, deleted: true });
    expect((await tp(org).get(`/${a.id}/actions`)).body.data).toHaveLength(1);
    expect((await tp(org).del(`/${a.id}/actions/${second.body.id}`)).status).toBe(404);
  });

  it("reorder takes every action id in the new order and renumbers the sequences", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "ro", trigger_type: "manual" });
    const ids: string[] = [];
    for (const s of [1, 2, 3])
      ids.push((await tp(org).post(`/${a.id}/actions`, { action_type: "delay", sequence: s, config: { duration: s } })).body.id);
    const res = await tp(org).post(`/${a.id}/actions/reorder`, { action_ids: [ids[2], ids[0], ids[1]] });
    expect(res.status).toBe(200);
    expect(res.body.data.map((x: any) => [x.id, x.sequence])).toEqual([
      [ids[2], 1],
      [ids[0], 2],
      [ids[1], 3],
    ]);
    expect((await tp(org).post(`/${a.id}/actions/reorder`, { action_ids: [ids[0]] })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/actions/reorder`, { action_ids: [ids[0], ids[0], ids[1]] })).status).toBe(400);
    expect((await tp(org).post(`/${a.id}/actions/reorder`, { action_ids: "x" })).status).toBe(400);
    expect((await tp(newOrg()).post(`/${a.id}/actions/reorder`, { action_ids: ids })).status).toBe(404);
  });

  it("executes one action in isolation, skipping the others, and answers the run", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "iso", trigger_type: "manual" });
    await tp(org).post(`/${a.id}/actions`, { action_type: "call_webhook", sequence: 1, config: { url: `${SINK}/iso-1` } });
    const two = await tp(org).post(`/${a.id}/actions`, {
      action_type: "call_webhook",
      sequence: 2,
      config: { url: `${SINK}/iso-2`, body: { n: "{{ record.n }}" } },
    });
    const res = await tp(org).post(`/${a.id}/actions/${two.body.id}/execute`, { test_data: { n: 7 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ automation_id: a.id, status: "completed", actions_total: 1 });
    expect(res.body.action_results).toMatchObject([{ action_id: two.body.id, action_type: "call_webhook", status: "success" }]);
    expect(await sinkRequests("/iso-1")).toHaveLength(0);
    expect((await sinkRequests("/iso-2"))[0].body).toContain("7");
    expect((await tp(org).post(`/${a.id}/actions/nope/execute`, {})).status).toBe(404);
    expect((await tp(newOrg()).post(`/${a.id}/actions/${two.body.id}/execute`, {})).status).toBe(404);
    expect((await tp(org).post(`/${a.id}/actions/${two.body.id}/execute`, { test_data: 1 })).status).toBe(400);
  });

  it("another organization's automation or action is 404", async () => {
    const org = newOrg();
    const a = await createAutomation(org, { name: "x", trigger_type: "manual" });
    const act = (await tp(org).post(`/${a.id}/actions`, { action_type: "delay", sequence: 1, config: { duration: 1 } })).body;
    const other = tp(newOrg());
    expect((await other.post(`/${a.id}/actions`, { action_type: "delay", sequence: 2 })).status).toBe(404);
    expect((await other.patch(`/${a.id}/actions/${act.id}`, { sequence: 3 })).status).toBe(404);
    expect((await other.del(`/${a.id}/actions/${act.id}`)).status).toBe(404);
    expect((await tp(org).get(`/${a.id}/actions`)).body.data).toHaveLength(1);
  });
});
