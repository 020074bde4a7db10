import { SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, BASE, apiKey, call } from "../../helpers";
import { sinkReset } from "../../support/engine";
import { CONFIGS, connect, jwtFor, onlyRequest } from "../../integrations/support";

/**
 * The Plura dialect (seed 000): POST /api/automation/execute, the document's own path. Every answer is the
 * documented envelope, refusals included (success: false, error, requestId, duration).
 */

beforeEach(sinkReset);

let n = 0;
const org = () => `plura-${++n}`;
const PATH = "/api/automation/execute";
const ENVELOPE_KEYS = ["automationType", "data", "duration", "error", "metadata", "nodeId", "requestId", "success", "timestamp"];

/** Checks the refusal envelope: every documented key, success false, the message in `error`, the code in metadata. */
function expectRefusal(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS);
  expect(res.body).toMatchObject({ success: false, data: null, error: expect.any(String), metadata: { code } });
  expect(res.body.requestId).toBe(res.headers.get("x-request-id"));
  expect(res.body.duration).toBeGreaterThanOrEqual(0);
  expect(Date.parse(res.body.timestamp)).not.toBeNaN();
}

describe("Plura POST /api/automation/execute", () => {
  it("runs the document's custom-field example as written (google_calendar appointment)", async () => {
    const o = org();
    const conn = await connect("google_calendar", CONFIGS.google_calendar, o);
    const res = await call("POST", PATH, {
      org: o,
      headers: { "x-request-id": "req-plura-1" },
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
      requestId: "req-plura-1",
      nodeId: "gcal-create-event-002",
      automationType: "google_calendar",
      success: true,
      error: null,
      metadata: { action: "appointment", superuser: true, connectionId: conn.id },
    });
    expect((await onlyRequest("/gcal/")).json).toMatchObject({
      summary: "My Summary",
      start: { dateTime: "2025-09-19T07:00:00.000Z" },
      end: { dateTime: "2025-09-19T07:30:00.000Z" },
    });
  });

  it("runs the document's request structure with transcript, context and callData, as a JWT user (Bearer)", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const token = await jwtFor("user-9", o, "automations:trigger", "nine@example.com");
    const res = await call("POST", PATH, {
      token,
      body: {
        automationType: "slack",
        nodeId: "unique-node-identifier",
        userId: "nine@example.com",
        nodeParams: { action: "post_message", params: { text: "{{ transcript }} ({{ context.campaign }})" } },
        transcript: "Optional transcript",
        context: { campaign: "spring" },
        callData: {},
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      nodeId: "unique-node-identifier",
      metadata: { userId: "user-9", superuser: false },
    });
    expect((await onlyRequest("/slack/")).json.text).toBe("Optional transcript (spring)");
  });

  it("a vendor failure is 200 with success:false in the envelope", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await call("POST", PATH, {
      org: o,
      body: {
        automationType: "slack",
        nodeId: "n1",
        nodeParams: { action: "post_message", params: { channel: "#missing", text: "x" } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, error: "channel_not_found", nodeId: "n1" });
  });

  it("malformed JSON is a 400 envelope", async () => {
    const res = await call("POST", PATH, { org: org(), rawBody: "{not json", headers: { "content-type": "application/json" } });
    expectRefusal(res, 400, "MALFORMED_REQUEST");
    expect(res.body).toMatchObject({ nodeId: null, automationType: null });
  });

  it("wrong types and missing fields are a 400 envelope naming the fields, echoing nodeId and automationType", async () => {
    const o = org();
    const missing = await call("POST", PATH, {
      org: o,
      body: { automationType: "slack", nodeId: "n2", nodeParams: { params: {} } },
    });
    expectRefusal(missing, 400, "VALIDATION_ERROR");
    expect(missing.body).toMatchObject({ nodeId: "n2", automationType: "slack" });
    expect(missing.body.metadata.details.map((d: any) => d.path)).toContain("nodeParams.action");
    const wrongType = await call("POST", PATH, {
      org: o,
      body: { automationType: 42, nodeParams: { action: "x", params: "no" } },
    });
    expectRefusal(wrongType, 400, "VALIDATION_ERROR");
    expect(wrongType.body.automationType).toBeNull();
    const unknown = await call("POST", PATH, {
      org: o,
      body: { automationType: "myspace", nodeParams: { action: "post", params: {} } },
    });
    expectRefusal(unknown, 400, "UNKNOWN_PLATFORM");
    const custom = await call("POST", PATH, {
      org: o,
      body: {
        automationType: "core",
        nodeParams: {
          action: "send_notification",
          params: { user_id: "u", title: "k1", customFields: [{ field: "title", customFieldEnabled: true }] },
        },
        callData: { fields: {} },
      },
    });
    expectRefusal(custom, 400, "CUSTOM_FIELD_ERROR");
  });

  it("another organization's connection is a 404 envelope", async () => {
    const foreign = await connect("slack", CONFIGS.slack, "plura-foreign");
    const res = await call("POST", PATH, {
      org: org(),
      body: { automationType: "slack", nodeParams: { action: "post_message", params: { text: "x" }, connectionId: foreign.id } },
    });
    expectRefusal(res, 404, "NOT_FOUND");
  });

  it("missing credentials (401), a missing scope (403) and acting for another user (403) are envelopes", async () => {
    const o = org();
    const body = { automationType: "core", nodeParams: { action: "send_notification", params: { user_id: "u", title: "t" } } };
    expectRefusal(await call("POST", PATH, { token: null, body }), 401, "UNAUTHORIZED");
    expectRefusal(await call("POST", PATH, { token: "ak_wrong", body }), 401, "UNAUTHORIZED");
    const reader = await apiKey(o, ["automations:read"]);
    expectRefusal(await call("POST", PATH, { token: reader, body }), 403, "FORBIDDEN");
    const jwt = await jwtFor("user-1", o, "automations:trigger");
    expectRefusal(await call("POST", PATH, { token: jwt, body: { ...body, userId: "someone-else" } }), 403, "FORBIDDEN");
    // x-key (the superuser) may act for any user, as the document says.
    const su = await call("POST", PATH, { org: o, body: { ...body, userId: "someone-else" } });
    expect(su.body).toMatchObject({ success: true, metadata: { userId: "someone-else", superuser: true } });
  });

  it("a body that is not JSON (415), too large (413) and a wrong method (405) are envelopes", async () => {
    const o = org();
    expectRefusal(
      await call("POST", PATH, { org: o, rawBody: "a=b", headers: { "content-type": "text/plain" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    const big = JSON.stringify({ automationType: "core", nodeParams: { action: "x", params: { pad: "x".repeat(1_100_000) } } });
    expectRefusal(
      await call("POST", PATH, { org: o, rawBody: big, headers: { "content-type": "application/json" } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    const get = await SELF.fetch(`${BASE}${PATH}`, { headers: { "x-key": ADMIN_KEY, "x-org-id": o } });
    const body = await get.json<any>();
    expect(get.status).toBe(405);
    expect(body).toMatchObject({ success: false, metadata: { code: "METHOD_NOT_ALLOWED" } });
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("is listed under the Plura tag of the OpenAPI document, with the envelope for every refusal", async () => {
    const doc = (await call("GET", "/openapi.json", { token: null })).body;
    const op = doc.paths[PATH].post;
    expect(op.tags).toEqual(["Plura"]);
    for (const status of ["400", "401", "403", "404", "413", "415", "429"]) {
      expect(op.responses[status].content["application/json"].schema.$ref).toBe("#/components/schemas/PluraErrorEnvelope");
    }
  });
});
