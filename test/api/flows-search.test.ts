import { describe, expect, it } from "vitest";
import { call } from "../helpers";
import { createFlow, freshOrg, minimalFlow } from "./flows-fixtures";

describe("flows: search and batch get", () => {
  it("pages newest first with total, size and from", async () => {
    const org = freshOrg();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createFlow(minimalFlow(`f${i}`), org)).id);
    const all = await call("GET", "/v1/automation/flows", { org });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(new Set(all.body.results.map((f: { id: string }) => f.id))).toEqual(new Set(ids));
    const page = await call("GET", "/v1/automation/flows?size=2&from=2", { org });
    expect(page.body.total).toBe(3);
    expect(page.body.results).toHaveLength(1);
    const first = await call("GET", "/v1/automation/flows?size=2", { org });
    expect([...first.body.results, ...page.body.results].map((f: { id: string }) => f.id)).toEqual(
      all.body.results.map((f: { id: string }) => f.id),
    );
  });

  it("filters by schema, trigger source, target workflow, trigger type and enabled; hides flows_trigger flows by default", async () => {
    const org = freshOrg();
    const bySchema = await createFlow({ ...minimalFlow("schema"), entity_schema: "opportunity" }, org);
    const byTriggerSchema = await createFlow(
      {
        flow_name: "trigger schema",
        triggers: [{ type: "entity_operation", configuration: { schema: "opportunity" } }],
        actions: [],
      },
      org,
    );
    const bySource = await createFlow(
      { flow_name: "source", triggers: [{ type: "journey_submission", configuration: { source_id: "journey-1" } }], actions: [] },
      org,
    );
    const byWorkflow = await createFlow(
      { ...minimalFlow("wf"), actions: [{ type: "trigger-workflow", config: { target_workflow: "wf-42" } }] },
      org,
    );
    const v2 = await createFlow({ flow_name: "v2", triggers: [{ type: "flows_trigger" }], actions: [] }, org);
    const disabled = await createFlow({ ...minimalFlow("off"), enabled: false }, org);

    const ids = async (query: string) =>
      (await call("GET", `/v1/automation/flows?${query}`, { org })).body.results.map((f: { id: string }) => f.id).sort();
    expect(await ids("schema=opportunity")).toEqual([bySchema.id, byTriggerSchema.id].sort());
    expect(await ids("trigger_source_id=journey-1")).toEqual([bySource.id]);
    expect(await ids("target_workflow=wf-42")).toEqual([byWorkflow.id]);
    expect(await ids("trigger_type=journey_submission")).toEqual([bySource.id]);
    expect(await ids("enabled=false")).toEqual([disabled.id]);
    expect(await ids("")).not.toContain(v2.id);
    expect(await ids("include_flows=true")).toContain(v2.id);
    expect(await ids("include_flows=true&trigger_type=flows_trigger")).toEqual([v2.id]);
    expect((await call("GET", "/v1/automation/flows", { org })).body.total).toBe(5);
  });

  it("rejects bad search parameters with 400", async () => {
    for (const q of ["size=0", "size=101", "size=abc", "from=-1", "include_flows=maybe", "trigger_type=nope"]) {
      const res = await call("GET", `/v1/automation/flows?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
  });

  it("batch-gets flows in the order asked, leaving out unknown ids and other orgs' flows", async () => {
    const org = freshOrg();
    const a = await createFlow(minimalFlow("a"), org);
    const b = await createFlow(minimalFlow("b"), org);
    const foreign = await createFlow(minimalFlow("foreign"), freshOrg());
    const res = await call("POST", "/v1/automation/flows:batchGet", {
      org,
      body: { ids: [b.id, "nope", foreign.id, a.id, b.id] },
    });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.results.map((f: { id: string }) => f.id)).toEqual([b.id, a.id]);
    expect((await call("POST", "/v1/automation/flows:batchGet", { org, body: { ids: [] } })).body).toEqual({
      total: 0,
      results: [],
    });
  });

  it("rejects a bad batch get body", async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => `id-${i}`);
    expect((await call("POST", "/v1/automation/flows:batchGet", { body: { ids: tooMany } })).status).toBe(400);
    expect((await call("POST", "/v1/automation/flows:batchGet", { body: { ids: "x" } })).status).toBe(400);
    expect((await call("POST", "/v1/automation/flows:batchGet", { body: {} })).status).toBe(400);
  });
});
