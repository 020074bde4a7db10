import { beforeEach, describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";
import { sinkReset } from "../support/engine";
import { CONFIGS, connect, jwtFor, onlyRequest } from "./support";

/** Plura's POST /automation/execute (seed 000): request, envelope, custom fields, JWT vs x-key superuser. */

beforeEach(sinkReset);

let n = 0;
const org = () => `exec-${++n}`;
const ENVELOPE_KEYS = ["automationType", "data", "duration", "error", "metadata", "nodeId", "requestId", "success", "timestamp"];

describe("unified execute", () => {
  it("runs the seed's google_calendar example with custom fields resolved from callData.fields", async () => {
    const o = org();
    const conn = await connect("google_calendar", CONFIGS.google_calendar, o);
    const res = await call("POST", "/v1/automation/execute", {
      org: o,
      headers: { "x-request-id": "req-seed-1" },
      body: {
        automationType: "google_calendar",
        nodeId: "gcal-create-event-002",
        nodeParams: {
          action: "appointment",
          params: {
            summary: "My Summary",
            startTime: "custom_field_1",
            endTime: "custom_field_2",
            customFields: [
              { field: "startTime", customFieldEnabled: true },
              { field: "endTime", customFieldEnabled: true },
            ],
          },
        },
        callData: { fields: { custom_field_1: "2025-09-19T07:00:00.000Z", custom_field_2: "2025-09-19T07:30:00.000Z" } },
      },
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS);
    expect(res.body).toMatchObject({
      requestId: "req-seed-1",
      nodeId: "gcal-create-event-002",
      automationType: "google_calendar",
      success: true,
      data: { id: "evt0001", status: "confirmed" },
      error: null,
      metadata: { action: "appointment", userId: "superuser", superuser: true, connectionId: conn.id, httpStatus: 200 },
    });
    expect(Date.parse(res.body.timestamp)).not.toBeNaN();
    expect(res.body.duration).toBeGreaterThanOrEqual(0);
    const req = await onlyRequest("/gcal/");
    expect(req.json).toMatchObject({
      summary: "My Summary",
      start: { dateTime: "2025-09-19T07:00:00.000Z" },
      end: { dateTime: "2025-09-19T07:30:00.000Z" },
    });
  });

  it("a vendor failure is success:false with the vendor's message in the same envelope", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await call("POST", "/v1/automation/execute", {
      org: o,
      body: {
        automationType: "slack",
        nodeId: "n1",
        nodeParams: { action: "post_message", params: { channel: "#missing", text: "x" } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: false,
      data: null,
      error: "channel_not_found",
      metadata: { errorKind: "vendor", httpStatus: 200 },
    });
  });

  it("renders templates over transcript, context, callData and the user", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await call("POST", "/v1/automation/execute", {
      org: o,
      body: {
        automationType: "slack",
        userId: "agent@example.com",
        nodeParams: {
          action: "post_message",
          params: { text: "{{ user.id }} / {{ context.campaign }} / {{ callData.caller }}: {{ transcript | truncate: 12 }}" },
        },
        transcript: "Customer wants a callback tomorrow",
        context: { campaign: "spring" },
        callData: { caller: "+4930123" },
      },
    });
    expect(res.body.success).toBe(true);
    expect((await onlyRequest("/slack/")).json.text).toBe("agent@example.com / spring / +4930123: Customer ...");
  });

  it("a JWT user acts as themselves; naming another user is 403; the x-key superuser may act for anyone", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const token = await jwtFor("user-7", o, "automations:trigger", "seven@example.com");
    const body = (userId?: string) => ({
      automationType: "slack",
      userId,
      nodeParams: { action: "post_message", params: { text: "hi" } },
      context: { source: "test" },
    });
    const self = await call("POST", "/v1/automation/execute", { token, body: body() });
    expect(self.status).toBe(200);
    expect(self.body.metadata).toMatchObject({
      userId: "user-7",
      superuser: false,
      context: { source: "test", userId: "user-7", superuser: false },
    });
    expect((await call("POST", "/v1/automation/execute", { token, body: body("seven@example.com") })).status).toBe(200);
    const other = await call("POST", "/v1/automation/execute", { token, body: body("someone-else") });
    expect(other.status).toBe(403);
    const key = await apiKey(o, ["automations:trigger"]);
    expect((await call("POST", "/v1/automation/execute", { token: key, body: body("someone-else") })).status).toBe(403);
    const su = await call("POST", "/v1/automation/execute", { org: o, body: body("someone-else") });
    expect(su.body.metadata).toMatchObject({ userId: "someone-else", superuser: true, context: { superuser: true } });
    const audit = await call("GET", "/v1/tools/audit", { org: o });
    expect(audit.body.results.map((r: any) => [r.via, r.user_id])).toEqual(
      expect.arrayContaining([
        ["automation.execute", "user-7"],
        ["automation.execute", "someone-else"],
      ]),
    );
    const reader = await apiKey(o, ["automations:read"]);
    expect((await call("POST", "/v1/automation/execute", { token: reader, body: body() })).status).toBe(403);
  });

  it("core actions need no connection", async () => {
    const o = org();
    const res = await call("POST", "/v1/automation/execute", {
      org: o,
      body: {
        automationType: "core",
        nodeParams: { action: "send_notification", params: { user_id: "u1", title: "Call back {{ callData.fields.name }}" } },
        callData: { fields: { name: "Ada" } },
      },
    });
    expect(res.body).toMatchObject({ success: true, automationType: "core", data: { notification_id: expect.any(String) } });
    expect((await call("GET", "/v1/notifications?user_id=u1", { org: o })).body.results[0].title).toBe("Call back Ada");
  });

  it("bad input is a clear 4xx", async () => {
    const o = org();
    const ex = (body: unknown) => call("POST", "/v1/automation/execute", { org: o, body });
    const unknownPlatform = await ex({ automationType: "myspace", nodeParams: { action: "post", params: {} } });
    expect([unknownPlatform.status, unknownPlatform.body.error.code]).toEqual([400, "UNKNOWN_PLATFORM"]);
    const unknownAction = await ex({ automationType: "slack", nodeParams: { action: "nuke", params: {} } });
    expect([unknownAction.status, unknownAction.body.error.code]).toEqual([400, "UNKNOWN_ACTION"]);
    const unknownCore = await ex({ automationType: "core", nodeParams: { action: "nuke", params: {} } });
    expect(unknownCore.status).toBe(400);
    await connect("slack", CONFIGS.slack, o);
    const badParams = await ex({ automationType: "slack", nodeParams: { action: "post_message", params: { text: "" } } });
    expect(badParams.status).toBe(400);
    expect(badParams.body.error.details[0].path).toBe("nodeParams.params.text");
    const missingField = await ex({
      automationType: "slack",
      nodeParams: { action: "post_message", params: { text: "k1", customFields: [{ field: "text", customFieldEnabled: true }] } },
      callData: { fields: {} },
    });
    expect(missingField.status).toBe(400);
    expect(missingField.body.error).toMatchObject({ code: "CUSTOM_FIELD_ERROR", details: [{ path: "nodeParams.params.text" }] });
    const badTemplate = await ex({
      automationType: "slack",
      nodeParams: { action: "post_message", params: { text: "{{ oops" } },
    });
    expect([badTemplate.status, badTemplate.body.error.code]).toEqual([400, "TEMPLATE_ERROR"]);
    const foreign = await connect("slack", CONFIGS.slack, "exec-other");
    const other = await ex({
      automationType: "slack",
      nodeParams: { action: "post_message", params: { text: "x" }, connectionId: foreign.id },
    });
    expect(other.status).toBe(404);
    expect((await ex({ nodeParams: { action: "x", params: {} } })).status).toBe(400);
    expect((await ex({ automationType: "slack", nodeParams: { params: {} } })).status).toBe(400);
    expect((await ex({ automationType: "slack", nodeParams: { action: "post_message", params: "text" } })).status).toBe(400);
  });
});
