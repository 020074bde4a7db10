import { describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";
import { createFlow, freshOrg, minimalFlow } from "./flows-fixtures";

const routes = (id: string) => [
  { method: "GET", path: "/v1/automation/flows", write: false },
  { method: "POST", path: "/v1/automation/flows", body: minimalFlow(), write: true },
  { method: "POST", path: "/v1/automation/flows:batchGet", body: { ids: [id] }, write: false },
  { method: "GET", path: `/v1/automation/flows/${id}`, write: false },
  { method: "PUT", path: `/v1/automation/flows/${id}`, body: minimalFlow("changed"), write: true },
  { method: "POST", path: `/v1/automation/flows/${id}/disable`, write: true },
  { method: "POST", path: `/v1/automation/flows/${id}/enable`, write: true },
  { method: "DELETE", path: `/v1/automation/flows/${id}`, write: true },
];

describe("flows: authentication and authorization", () => {
  it("answers 401 without credentials or with a bad key on every route", async () => {
    const flow = await createFlow(minimalFlow());
    for (const r of routes(flow.id)) {
      for (const token of [null, "ak_not-a-real-key", "definitely-wrong"]) {
        const res = await call(r.method, r.path, { token, body: r.body });
        expect(res.status, `${r.method} ${r.path}`).toBe(401);
        expect(res.body.error.code).toBe("UNAUTHORIZED");
      }
    }
    expect((await call("GET", `/v1/automation/flows/${flow.id}`)).body.flow_name).toBe("Minimal");
  });

  it("needs automations:read to read and automations:write to write", async () => {
    const org = freshOrg();
    const flow = await createFlow(minimalFlow(), org);
    const reader = await apiKey(org, ["automations:read"]);
    const writer = await apiKey(org, ["automations:write"]);
    const trigger = await apiKey(org, ["automations:trigger"]);
    for (const r of routes(flow.id)) {
      const asReader = await call(r.method, r.path, { token: reader, body: r.body });
      expect(asReader.status, `reader ${r.method} ${r.path}`).toBe(r.write ? 403 : 200);
      if (r.write) expect(asReader.body.error.code).toBe("FORBIDDEN");
      if (!r.write) expect((await call(r.method, r.path, { token: writer, body: r.body })).status).toBe(403);
      expect((await call(r.method, r.path, { token: trigger, body: r.body })).status).toBe(403);
    }
    // A 403 comes before validation: a forbidden caller learns nothing about the body.
    expect((await call("POST", "/v1/automation/flows", { token: reader, body: { nonsense: true } })).status).toBe(403);
    // Nothing was changed by the refused writes.
    const after = await call("GET", `/v1/automation/flows/${flow.id}`, { token: reader });
    expect(after.body).toMatchObject({ flow_name: "Minimal", version: 1, enabled: true });
    expect((await call("GET", "/v1/automation/flows", { token: reader })).body.total).toBe(1);
  });

  it("lets a key with both scopes work the whole lifecycle, recorded as that key", async () => {
    const org = freshOrg();
    const key = await apiKey(org, ["automations:read", "automations:write"]);
    const created = await call("POST", "/v1/automation/flows", { token: key, body: minimalFlow() });
    expect(created.status).toBe(201);
    expect(created.body.org_id).toBe(org);
    expect(created.body.created_by).toMatch(/^api_key:/);
    const put = await call("PUT", `/v1/automation/flows/${created.body.id}`, { token: key, body: created.body });
    expect(put.status).toBe(200);
    const off = await call("POST", `/v1/automation/flows/${created.body.id}/disable`, { token: key });
    expect(off.body.disable_details.blame).toBe(created.body.created_by);
    expect((await call("DELETE", `/v1/automation/flows/${created.body.id}`, { token: key })).status).toBe(200);
  });

  it("treats another organization's flow ids as unknown on every route and leaves them untouched", async () => {
    const other = freshOrg();
    const theirs = await createFlow(minimalFlow("theirs"), other);
    const mine = freshOrg();
    const myKey = await apiKey(mine, ["automations:read", "automations:write"]);
    for (const r of routes(theirs.id).filter((r) => r.path.includes(theirs.id) && !r.path.includes("batchGet"))) {
      for (const opts of [{ org: mine }, { token: myKey }]) {
        const res = await call(r.method, r.path, { ...opts, body: r.body });
        expect(res.status, `${r.method} ${r.path}`).toBe(404);
        expect(res.body.error.code).toBe("NOT_FOUND");
      }
    }
    const batch = await call("POST", "/v1/automation/flows:batchGet", { token: myKey, body: { ids: [theirs.id] } });
    expect(batch.body).toEqual({ total: 0, results: [] });
    expect((await call("GET", "/v1/automation/flows", { token: myKey })).body.total).toBe(0);

    const still = await call("GET", `/v1/automation/flows/${theirs.id}`, { org: other });
    expect(still.body).toEqual(theirs);
  });
});
