import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { sinkRequests, sinkReset } from "../support/engine";
import { CONFIGS, SID, SINK, callTool, connect, onlyRequest } from "./support";

/**
 * Every provider action against a local stand-in of its vendor: the exact request (URL, auth header, body) on
 * success, and the vendor's error mapped to a clear result. Each test uses its own org so connections don't mix.
 */

beforeEach(sinkReset);

let n = 0;
const org = () => `prov-${++n}`;

describe("slack", () => {
  it("post_message sends chat.postMessage with the bot token and returns the ts", async () => {
    const o = org();
    const conn = await connect("slack", CONFIGS.slack, o);
    const res = await callTool("slack_post_message", { text: "Deal closed: ACME", thread_ts: "1.2" }, o);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      data: { channel: "C0001", ts: "1700000000.000100" },
      connection_id: conn.id,
      http_status: 200,
    });
    const req = await onlyRequest("/slack/");
    expect(req.method).toBe("POST");
    expect(req.url).toBe(`${SINK}/slack/chat.postMessage`);
    expect(req.headers.authorization).toBe("Bearer xoxb-good-slack-token-1234");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.json).toEqual({ channel: "#general", text: "Deal closed: ACME", thread_ts: "1.2" });
  });

  it("maps {ok:false, error} to success:false with Slack's error code", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await callTool("slack_post_message", { channel: "#missing", text: "hi" }, o);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: false,
      error: "channel_not_found",
      error_kind: "vendor",
      http_status: 200,
      data: null,
    });
  });

  it("a 429 carries Retry-After as retry_after_ms", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await callTool("slack_post_message", { channel: "#busy", text: "hi" }, o);
    expect(res.body).toMatchObject({ success: false, error_kind: "rate_limited", http_status: 429, retry_after_ms: 7000 });
  });
});

describe("hubspot", () => {
  it("create_contact posts the properties with the access token", async () => {
    const o = org();
    await connect("hubspot", CONFIGS.hubspot, o);
    const res = await callTool(
      "hubspot_create_contact",
      { email: "ada@example.com", firstname: "Ada", lastname: "Lovelace", properties: { lifecyclestage: "lead" } },
      o,
    );
    expect(res.body).toMatchObject({
      success: true,
      http_status: 201,
      data: { id: "1001", properties: { email: "ada@example.com" } },
    });
    const req = await onlyRequest("/hubspot/");
    expect(req.url).toBe(`${SINK}/hubspot/crm/v3/objects/contacts`);
    expect(req.headers.authorization).toBe("Bearer pat-good-hubspot-token-5678");
    expect(req.json).toEqual({
      properties: { lifecyclestage: "lead", email: "ada@example.com", firstname: "Ada", lastname: "Lovelace" },
    });
  });

  it("create_contact answers HubSpot's conflict message", async () => {
    const o = org();
    await connect("hubspot", CONFIGS.hubspot, o);
    const res = await callTool("hubspot_create_contact", { email: "exists@example.com" }, o);
    expect(res.body).toMatchObject({
      success: false,
      http_status: 409,
      error: "Contact already exists. Existing ID: 501",
      error_kind: "vendor",
    });
  });

  it("update_contact patches by id, or by email with idProperty", async () => {
    const o = org();
    await connect("hubspot", CONFIGS.hubspot, o);
    const byId = await callTool("hubspot_update_contact", { contact_id: "1001", properties: { phone: "+49 30 1234" } }, o);
    expect(byId.body).toMatchObject({ success: true, data: { id: "1001", properties: { phone: "+49 30 1234" } } });
    const byEmail = await callTool(
      "hubspot_update_contact",
      { contact_id: "ada@example.com", id_property: "email", properties: { company: "Acme" } },
      o,
    );
    expect(byEmail.body.success).toBe(true);
    const reqs = await sinkRequests("/hubspot/");
    expect(reqs.map((r) => [r.method, r.url])).toEqual([
      ["PATCH", `${SINK}/hubspot/crm/v3/objects/contacts/1001`],
      ["PATCH", `${SINK}/hubspot/crm/v3/objects/contacts/ada%40example.com?idProperty=email`],
    ]);
    expect(JSON.parse(reqs[1].body)).toEqual({ properties: { company: "Acme" } });
  });

  it("update_contact of an unknown contact is HubSpot's 404", async () => {
    const o = org();
    await connect("hubspot", CONFIGS.hubspot, o);
    const res = await callTool("hubspot_update_contact", { contact_id: "404", properties: { phone: "1" } }, o);
    expect(res.body).toMatchObject({ success: false, http_status: 404, error: "resource not found" });
  });
});

describe("google calendar", () => {
  it("appointment creates an event with start and end", async () => {
    const o = org();
    await connect("google_calendar", CONFIGS.google_calendar, o);
    const res = await callTool(
      "google_calendar_appointment",
      {
        summary: "Intro call",
        startTime: "2025-09-19T07:00:00.000Z",
        endTime: "2025-09-19T07:30:00.000Z",
        attendees: ["ada@example.com"],
        timeZone: "Europe/Berlin",
      },
      o,
    );
    expect(res.body).toMatchObject({ success: true, data: { id: "evt0001", status: "confirmed" } });
    const req = await onlyRequest("/gcal/");
    expect(req.url).toBe(`${SINK}/gcal/calendars/team%40acme.test/events`);
    expect(req.headers.authorization).toBe("Bearer ya29.good-google-token-9012");
    expect(req.json).toEqual({
      summary: "Intro call",
      start: { dateTime: "2025-09-19T07:00:00.000Z", timeZone: "Europe/Berlin" },
      end: { dateTime: "2025-09-19T07:30:00.000Z", timeZone: "Europe/Berlin" },
      attendees: [{ email: "ada@example.com" }],
    });
  });

  it("an unknown calendar is Google's 404; an end before the start is refused before any call", async () => {
    const o = org();
    await connect("google_calendar", CONFIGS.google_calendar, o);
    const missing = await callTool(
      "google_calendar_appointment",
      { summary: "x", startTime: "2025-09-19T07:00:00Z", endTime: "2025-09-19T08:00:00Z", calendarId: "missing" },
      o,
    );
    expect(missing.body).toMatchObject({ success: false, http_status: 404, error: "Not Found", error_kind: "vendor" });
    const backwards = await callTool(
      "google_calendar_appointment",
      { summary: "x", startTime: "2025-09-19T08:00:00Z", endTime: "2025-09-19T07:00:00Z" },
      o,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details[0]).toMatchObject({
      path: "arguments.endTime",
      message: "endTime must be after startTime",
    });
    expect((await sinkRequests("/gcal/")).length).toBe(1);
  });
});

describe("resend (e-mail)", () => {
  it("send_email posts to /emails with the key, the default sender and the idempotency key", async () => {
    const o = org();
    await connect("resend", CONFIGS.resend, o);
    const res = await callTool("resend_send_email", { to: "ada@example.com", subject: "Welcome", html: "<p>Hi Ada</p>" }, o);
    expect(res.body).toMatchObject({ success: true, data: { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" } });
    const req = await onlyRequest("/resend/");
    expect(req.url).toBe(`${SINK}/resend/emails`);
    expect(req.headers.authorization).toBe("Bearer re_good_resend_key_3456");
    // A key of its own, never the request id a client may choose (test/security/defence-in-depth.test.ts).
    expect(req.headers["idempotency-key"]).toMatch(/^tool:[0-9a-f-]{36}$/);
    expect(req.headers["idempotency-key"]).not.toBe(`tool:${res.headers.get("x-request-id")}`);
    expect(req.json).toEqual({
      from: "Acme <noreply@acme.test>",
      to: "ada@example.com",
      subject: "Welcome",
      html: "<p>Hi Ada</p>",
    });
  });

  it("a stored template is sent by id with its variables", async () => {
    const o = org();
    await connect("resend", CONFIGS.resend, o);
    const res = await callTool(
      "resend_send_email",
      { to: ["a@example.com", "b@example.com"], template_id: "welcome", variables: { NAME: "Ada" } },
      o,
    );
    expect(res.body.success).toBe(true);
    const req = await onlyRequest("/resend/");
    expect(req.json).toEqual({
      from: "Acme <noreply@acme.test>",
      to: ["a@example.com", "b@example.com"],
      template: { id: "welcome", variables: { NAME: "Ada" } },
    });
  });

  it("maps Resend's validation error", async () => {
    const o = org();
    await connect("resend", CONFIGS.resend, o);
    const res = await callTool("resend_send_email", { to: "bounce@invalid.test", subject: "x", text: "y" }, o);
    expect(res.body).toMatchObject({ success: false, http_status: 422, error_kind: "vendor" });
    expect(res.body.error).toContain("Invalid `to` field");
  });
});

describe("twilio", () => {
  it("send_sms posts the form with HTTP Basic credentials", async () => {
    const o = org();
    await connect("twilio", CONFIGS.twilio, o);
    const res = await callTool("twilio_send_sms", { to: "+15557654321", body: "Your code is 1234" }, o);
    expect(res.body).toMatchObject({
      success: true,
      http_status: 201,
      data: { sid: "SM0123456789abcdef0123456789abcdef", status: "queued" },
    });
    const req = await onlyRequest("/twilio/");
    expect(req.url).toBe(`${SINK}/twilio/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(req.headers.authorization).toBe(`Basic ${btoa(`${SID}:good-twilio-auth-token-7890`)}`);
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      To: "+15557654321",
      Body: "Your code is 1234",
      From: "+15550001111",
    });
  });

  it("maps Twilio's invalid number error with its code", async () => {
    const o = org();
    await connect("twilio", CONFIGS.twilio, o);
    const res = await callTool("twilio_send_sms", { to: "+15005550001", body: "x" }, o);
    expect(res.body).toMatchObject({
      success: false,
      http_status: 400,
      error: "The 'To' number +15005550001 is not a valid phone number.",
    });
  });
});

describe("discord", () => {
  it("post_message executes the webhook with wait=true", async () => {
    const o = org();
    await connect("discord", CONFIGS.discord, o);
    const res = await callTool("discord_post_message", { content: "Build passed" }, o);
    expect(res.body).toMatchObject({ success: true, data: { id: "M9001", channel_id: "C77" } });
    const req = await onlyRequest("/discord/");
    expect(req.url).toBe(`${SINK}/discord/api/webhooks/1234567/good-discord-token-abcd?wait=true`);
    expect(req.headers.authorization).toBeUndefined();
    expect(req.json).toEqual({ content: "Build passed" });
  });

  it("maps Discord's rate limit (retry_after in the body) and its unknown webhook", async () => {
    const o = org();
    await connect("discord", CONFIGS.discord, o);
    const flood = await callTool("discord_post_message", { content: "flood" }, o);
    expect(flood.body).toMatchObject({
      success: false,
      error_kind: "rate_limited",
      retry_after_ms: 1500,
      error: "You are being rate limited.",
    });
    const o2 = org();
    await connect("discord", { ...CONFIGS.discord, webhook_url: "https://discord.com/api/webhooks/404/tok" }, o2);
    const unknown = await callTool("discord_post_message", { content: "x" }, o2);
    expect(unknown.body).toMatchObject({ success: false, http_status: 404, error: "Unknown Webhook", error_kind: "auth" });
  });
});

describe("teams", () => {
  it("post_message sends a MessageCard (connector format) and accepts its '1'", async () => {
    const o = org();
    await connect("teams", CONFIGS.teams, o);
    const res = await callTool("teams_post_message", { title: "Deploy", text: "v1.2 is live", theme_color: "#00ff00" }, o);
    expect(res.body).toMatchObject({ success: true, data: { delivered: true } });
    const req = await onlyRequest("/teams/");
    expect(req.url).toBe(`${SINK}/teams/webhookb2/good-teams-path-efgh`);
    expect(req.json).toEqual({
      "@type": "MessageCard",
      "@context": "https://schema.org/extensions",
      summary: "Deploy",
      title: "Deploy",
      text: "v1.2 is live",
      themeColor: "#00ff00",
    });
  });

  it("sends an Adaptive Card to a Workflows URL, and treats a throttled 200 as a rate limit", async () => {
    const o = org();
    await connect("teams", { ...CONFIGS.teams, format: "adaptive_card" }, o);
    const res = await callTool("teams_post_message", { text: "hello" }, o);
    expect(res.body).toMatchObject({ success: true, http_status: 202 });
    const req = await onlyRequest("/teams/");
    expect(req.json.attachments[0].content).toMatchObject({
      type: "AdaptiveCard",
      body: [{ type: "TextBlock", text: "hello", wrap: true }],
    });
    const throttled = await callTool("teams_post_message", { text: "throttle-me" }, o);
    expect(throttled.body).toMatchObject({ success: false, error_kind: "rate_limited", http_status: 200 });
  });
});

describe("generic http", () => {
  it("request calls a path of the base URL with the bearer credential", async () => {
    const o = org();
    await connect("http", CONFIGS.http, o);
    const res = await callTool(
      "http_request",
      { method: "PUT", path: "/orders/42", query: { v: "2" }, body: { status: "paid" } },
      o,
    );
    expect(res.body).toMatchObject({
      success: true,
      data: { status: 200, body: { ok: true, method: "PUT", path: "/orders/42", received: { status: "paid" } } },
    });
    const req = await onlyRequest("/httpapi/");
    expect(req.url).toBe(`${SINK}/httpapi/orders/42?v=2`);
    expect(req.headers.authorization).toBe("Bearer good-http-bearer-token-ijkl");
  });

  it("an API key in a header or the query; a vendor 4xx carries the API's message", async () => {
    const o = org();
    await connect(
      "http",
      { base_url: `${SINK}/httpapi`, auth: { type: "header", name: "X-Api-Key", value: "good-key-mnop" } },
      o,
    );
    const failed = await callTool("http_request", { path: "/fail" }, o);
    expect(failed.body).toMatchObject({ success: false, http_status: 422, error: "Order 42 is closed" });
    expect((await onlyRequest("/httpapi/")).headers["x-api-key"]).toBe("good-key-mnop");
    const o2 = org();
    await sinkReset();
    await connect("http", { base_url: `${SINK}/httpapi`, auth: { type: "query", name: "api_key", value: "good-key-qrst" } }, o2);
    expect((await callTool("http_request", { method: "GET", path: "/x" }, o2)).body.success).toBe(true);
    expect((await onlyRequest("/httpapi/")).url).toBe(`${SINK}/httpapi/x?api_key=good-key-qrst`);
  });

  it("refused credentials are an auth failure", async () => {
    const o = org();
    await connect("http", { base_url: `${SINK}/httpapi`, auth: { type: "bearer", token: "bad-token" } }, o);
    const res = await callTool("http_request", { path: "/x" }, o);
    expect(res.body).toMatchObject({
      success: false,
      http_status: 401,
      error_kind: "auth",
      error: "Missing or invalid credentials",
    });
  });
});

describe("registry", () => {
  it("lists every platform with its config schema and actions", async () => {
    const res = await call("GET", "/v1/connections/platforms");
    expect(res.status).toBe(200);
    const ids = res.body.platforms.map((p: any) => p.platform);
    // Remote MCP servers (their tools are listed at run time) and the LLM providers (docs/llm.md) come last:
    // connections only, no static actions.
    expect(ids).toEqual([
      "slack",
      "hubspot",
      "google_calendar",
      "resend",
      "twilio",
      "discord",
      "teams",
      "http",
      "mcp",
      "openai",
      "anthropic",
      "ollama",
    ]);
    const slack = res.body.platforms[0];
    expect(slack.config_schema).toMatchObject({ type: "object", required: ["bot_token"], additionalProperties: false });
    expect(slack.config_schema.properties.base_url).toMatchObject({ type: "string", format: "uri" });
    expect(slack.secret_fields).toEqual(["bot_token", "signing_secret"]);
    expect(slack.actions[0]).toMatchObject({ name: "post_message", params_schema: { type: "object", required: ["text"] } });
  });
});
