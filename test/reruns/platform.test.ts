import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { driveIn } from "../integrations/support";
import { create, freshOrg } from "../platform/support";
import { SINK, createFlow, createRecord, sinkReset, startExec } from "../support/engine";
import { identity } from "./support";

/**
 * The platform's actions (docs/platform.md) in the ledger and in a rerun's preview: a delivery to a webhook
 * target, a generated document, a record shared with a partner. The preview names what the rerun adds.
 */

beforeEach(sinkReset);

describe("the platform's actions: ledger and preview", () => {
  it("inform-erp (a webhook target), create-document and trigger-share-entity: preview = rerun", async () => {
    const org = freshOrg("rerun");
    const partner = freshOrg("partner");
    await call("POST", "/v1/partners", { org, body: { partner_org_id: partner } });
    await call("POST", "/v1/partners", { org: partner, body: { partner_org_id: org } });
    const target = await create(org, "/v1/webhook-targets", { name: "ERP", url: `${SINK}/erp/${org}` });
    const template = await create(org, "/v1/document-templates", { name: "Offer", content: "# Offer {{ entity.name }}" });
    const rec = await createRecord("contact", { name: "Ada" }, org);
    const flow = await createFlow(
      {
        flow_name: "platform",
        retry_policy: { max_attempts: 1 },
        actions: [
          { id: "doc", name: "Offer PDF", type: "create-document", config: { template_id: template.id } },
          { id: "share", type: "trigger-share-entity", config: { partner_org_ids: [partner] } },
          { id: "erp", name: "Tell the ERP", type: "inform-erp", config: { target_webhook_id: target.id } },
          { id: "fail", type: "call_webhook", config: { url: `${SINK}/flaky/1/${org}` } },
        ],
      },
      org,
    );
    const id = await startExec(flow.id, rec._id, org);
    expect((await driveIn(id, org)).execution_status).toBe("failed");
    const before = (await call("GET", `/v1/automation/executions/${id}/effects`, { org })).body;
    expect(before.effects.map((e: any) => [e.action_name, e.kind, e.target, e.dedupe])).toEqual([
      ["Offer PDF", "file", "document", "engine"],
      ["share", "record", `share/${partner}`, "engine"],
      ["Tell the ERP", "http", `sink.test/erp/${org}`, "receiver"],
      ["fail", "http", `sink.test/flaky/1/${org}`, "receiver"],
    ]);
    expect(before.effects[0].ref).toBeTruthy();

    const body = { retry_strategy: "RETRY_AND_RESUME" };
    const p = (await call("POST", `/v1/automation/executions/${id}/doc/retrigger:preview`, { org, body })).body;
    expect(p.actions.map((a: any) => a.decision)).toEqual(["re-execute", "re-execute", "re-execute", "re-execute"]);
    expect((await call("POST", `/v1/automation/executions/${id}/doc/retrigger`, { org, body })).status).toBe(200);
    expect((await driveIn(id, org)).execution_status).toBe("success");
    const after = (await call("GET", `/v1/automation/executions/${id}/effects`, { org })).body;
    expect(after.effects.slice(before.total).map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.every((e: any) => e.repeats_idempotency_key)).toBe(true);
  });
});
