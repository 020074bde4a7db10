import { describe, expect, it } from "vitest";
import { call } from "../helpers";
import { createRecord } from "../support/engine";
import { flowIn, freshOrg, refusedFlow, runFlow } from "./support";

const ask = (org: string, partner: string) => call("POST", "/v1/partners", { org, body: { partner_org_id: partner } });

describe("partners", () => {
  it("a partnership is active once both organizations ask; either side can end it", async () => {
    const a = freshOrg();
    const b = freshOrg();
    const first = await ask(a, b);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ partner_org_id: b, status: "pending", partner_requested_at: null });
    expect((await ask(a, b)).status).toBe(200);
    expect((await call("GET", `/v1/partners/${a}`, { org: b })).body).toMatchObject({ partner_org_id: a, status: "invited" });
    const second = await ask(b, a);
    expect(second.body).toMatchObject({ partner_org_id: a, status: "active" });
    expect((await call("GET", "/v1/partners", { org: a })).body).toEqual({
      total: 1,
      results: [expect.objectContaining({ partner_org_id: b, status: "active" })],
    });
    expect((await call("DELETE", `/v1/partners/${a}`, { org: b })).body).toEqual({ partner_org_id: a, deleted: true });
    expect((await call("GET", `/v1/partners/${b}`, { org: a })).body.status).toBe("pending");
  });

  it("refuses bad input; an organization with no partnership gets 404", async () => {
    const a = freshOrg();
    for (const body of [
      {},
      { partner_org_id: "" },
      { partner_org_id: "has space" },
      { partner_org_id: a },
      { partner_org_id: "x", y: 1 },
    ]) {
      const res = await call("POST", "/v1/partners", { org: a, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const b = freshOrg();
    await ask(a, b);
    const stranger = freshOrg();
    expect((await call("GET", `/v1/partners/${b}`, { org: stranger })).status).toBe(404);
    expect((await call("DELETE", `/v1/partners/${b}`, { org: stranger })).status).toBe(404);
    expect((await call("GET", "/v1/partners", { org: stranger })).body.total).toBe(0);
  });
});

describe("trigger-share-entity", () => {
  it("shares the record read-only with active partners, who list and read it with _source_org", async () => {
    const a = freshOrg();
    const b = freshOrg();
    await ask(a, b);
    await ask(b, a);
    const rec = await createRecord("contract", { name: "Solar contract", amount: 100 }, a);
    const flow = await flowIn(a, [{ id: "share", type: "trigger-share-entity", config: { partner_org_ids: [b] } }]);
    const exec = await runFlow(a, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    expect(exec.actions[0].outputs).toMatchObject({ entity_id: rec._id, entity_schema: "contract", shared_with: [b] });

    const list = await call("GET", "/v1/shared-entities", { org: b });
    expect(list.body.total).toBe(1);
    expect(list.body.results[0]).toMatchObject({ _id: rec._id, _source_org: a, name: "Solar contract" });
    // Live and read-only: the partner sees the owner's changes, and cannot reach the record through its own API.
    await call("PATCH", `/v1/entities/contract/${rec._id}`, { org: a, body: { amount: 120 } });
    expect((await call("GET", `/v1/shared-entities/${rec._id}`, { org: b })).body).toMatchObject({ amount: 120, _source_org: a });
    expect((await call("GET", `/v1/entities/contract/${rec._id}`, { org: b })).status).toBe(404);
    expect((await call("PATCH", `/v1/entities/contract/${rec._id}`, { org: b, body: { amount: 1 } })).status).toBe(404);
    // Nobody else sees it; once the partnership ends, neither does the partner.
    const stranger = freshOrg();
    expect((await call("GET", `/v1/shared-entities/${rec._id}`, { org: stranger })).status).toBe(404);
    expect((await call("GET", "/v1/shared-entities", { org: a })).body.total).toBe(0);
    await call("DELETE", `/v1/partners/${b}`, { org: a });
    expect((await call("GET", `/v1/shared-entities/${rec._id}`, { org: b })).status).toBe(404);
    expect((await call("GET", "/v1/shared-entities", { org: b })).body.total).toBe(0);
  });

  it("fails with SHARING_ERROR for a partnership the partner has not asked for; refuses unknown partners on save", async () => {
    const a = freshOrg();
    const b = freshOrg();
    await ask(a, b);
    const rec = await createRecord("contract", { name: "x" }, a);
    const flow = await flowIn(a, [{ id: "share", type: "trigger-share-entity", config: { partner_org_ids: [b] } }]);
    const exec = await runFlow(a, flow.id, rec._id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "SHARING_ERROR", error_info: { partner_org_ids: [b] } });
    expect((await call("GET", "/v1/shared-entities", { org: b })).body.total).toBe(0);
    expect(await refusedFlow(a, [{ type: "trigger-share-entity", config: { partner_org_ids: [b, "org-never-asked"] } }])).toEqual(
      [expect.objectContaining({ path: "actions.0.config.partner_org_ids.1", code: "unknown_reference" })],
    );
    expect(await refusedFlow(a, [{ type: "trigger-share-entity", config: {} }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.partner_org_ids", code: "required" }),
    ]);
  });
});
