import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { createFlow, createRecord, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";
import { CONFIGS, connect, driveIn, jwtFor } from "./support";

/** Flows with integration, send_email / send-email and send_notification actions, end to end. */

beforeEach(sinkReset);

let n = 0;
const org = () => `flow-${++n}`;

describe("integration action", () => {
  it("runs a provider action with templated params and custom fields from the triggering record", async () => {
    const o = org();
    const conn = await connect("hubspot", CONFIGS.hubspot, o);
    const rec = await createRecord("contact", { name: "Ada", email: "ada@example.com", phone_field: "+49 30 999" }, o);
    const flow = await createFlow(
      {
        flow_name: "sync to hubspot",
        actions: [
          {
            id: "hs",
            type: "integration",
            config: {
              platform: "hubspot",
              action: "create_contact",
              connection_id: conn.id,
              params: { email: "{{ record.email }}", firstname: "{{ record.name | upcase }}", phone: "phone_field" },
              customFields: [{ field: "phone", customFieldEnabled: true }],
            },
          },
          {
            id: "after",
            type: "integration",
            config: {
              platform: "hubspot",
              action: "update_contact",
              params: { contact_id: "{{ actions.hs.outputs.data.id }}", properties: { lifecyclestage: "customer" } },
            },
          },
        ],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, rec._id, o), o);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs).toMatchObject({
      success: true,
      platform: "hubspot",
      action: "create_contact",
      connection_id: conn.id,
      http_status: 201,
      data: { id: "1001" },
    });
    const reqs = await sinkRequests("/hubspot/");
    expect(JSON.parse(reqs[0].body)).toEqual({ properties: { email: "ada@example.com", firstname: "ADA", phone: "+49 30 999" } });
    expect(reqs[1].url).toMatch(/\/crm\/v3\/objects\/contacts\/1001$/);
    const run = await call("GET", `/v1/automation/runs/${exec.id}`, { org: o });
    expect(run.body.action_results[0].request).toMatchObject({ method: "POST", headers: { authorization: "[redacted]" } });
  });

  it("a 429 waits for Retry-After through the engine's retry", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const flow = await createFlow(
      {
        flow_name: "busy slack",
        actions: [
          {
            id: "s",
            type: "integration",
            retry_policy: { max_attempts: 2, backoff_seconds: [1] },
            config: { platform: "slack", action: "post_message", params: { channel: "#busy", text: "x" } },
          },
        ],
      },
      o,
    );
    const now = Date.now();
    const id = await startExec(flow.id, "none", o);
    let exec = await driveIn(id, o, now);
    expect(exec.execution_status).not.toBe("failed");
    expect(await executionStub(id).nextWakeAt()).toBe(now + 7000);
    await driveIn(id, o, now + 6999);
    expect(await sinkRequests("/slack/")).toHaveLength(1);
    exec = await driveIn(id, o, now + 7000);
    expect(await sinkRequests("/slack/")).toHaveLength(2);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({
      error_code: "CUSTOM_ACTION_ERROR",
      error_info: { platform: "slack", http_status: 429, error_kind: "rate_limited" },
    });
  });

  it("a vendor 4xx fails at once with the vendor's message; a missing connection is BAD_CONFIG", async () => {
    const o = org();
    await connect("twilio", CONFIGS.twilio, o);
    const flow = await createFlow(
      {
        flow_name: "sms",
        actions: [
          {
            id: "sms",
            type: "integration",
            allow_failure: true,
            config: { platform: "twilio", action: "send_sms", params: { to: "+15005550001", body: "hi" } },
          },
          { id: "none", type: "integration", config: { platform: "discord", action: "post_message", params: { content: "x" } } },
        ],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, "none", o), o);
    expect(exec.actions[0].error_output).toMatchObject({
      error_code: "CUSTOM_ACTION_ERROR",
      error_reason: "twilio.send_sms failed: The 'To' number +15005550001 is not a valid phone number.",
      error_info: { http_status: 400, vendor_code: 21211 },
    });
    expect(exec.actions[0].attempts?.length ?? 1).toBe(1);
    expect(exec.actions[1].error_output).toMatchObject({ error_code: "BAD_CONFIG", error_info: { code: "NO_CONNECTION" } });
    expect(exec.execution_status).toBe("failed");
  });

  it("an unknown platform fails at run time with BAD_CONFIG naming the known platforms", async () => {
    const o = org();
    const flow = await createFlow(
      {
        flow_name: "bad",
        actions: [{ id: "x", type: "integration", config: { platform: "myspace", action: "poke", params: {} } }],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, "none", o), o);
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG", error_info: { code: "UNKNOWN_PLATFORM" } });
  });
});

describe("send_email / send-email", () => {
  it("send_email sends through the e-mail connection, to the record's email, with the execution's idempotency key", async () => {
    const o = org();
    await connect("resend", CONFIGS.resend, o);
    const rec = await createRecord("contact", { first_name: "Ada", email: "ada@example.com" }, o);
    const flow = await createFlow(
      {
        flow_name: "welcome",
        actions: [
          {
            id: "mail",
            type: "send_email",
            config: { to: "{{ record.email }}", subject: "Welcome", body: "Hi {{ record.first_name }}," },
          },
        ],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, rec._id, o), o);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs).toMatchObject({
      success: true,
      platform: "resend",
      data: { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" },
    });
    const [req] = await sinkRequests("/resend/");
    expect(req.headers["idempotency-key"]).toBe(`${exec.id}:mail`);
    expect(JSON.parse(req.body)).toEqual({
      from: "Acme <noreply@acme.test>",
      to: "ada@example.com",
      subject: "Welcome",
      text: "Hi Ada,",
    });
  });

  it("send-email with wait_for_confirmation pauses with a resume token after sending", async () => {
    const o = org();
    await connect("resend", CONFIGS.resend, o);
    const rec = await createRecord("contact", { email: [{ email: "epilot@example.com" }] }, o);
    const flow = await createFlow(
      {
        flow_name: "confirm",
        actions: [
          {
            id: "mail",
            type: "send-email",
            // `template` names a template stored at the e-mail provider (email_template_id names one of ours).
            config: { template: "offer", wait_for_confirmation: true, data: { NAME: "x" } },
          },
          { id: "note", type: "send_notification", config: { user_id: "owner-1", title: "Confirmed" } },
        ],
      },
      o,
    );
    const id = await startExec(flow.id, rec._id, o);
    let exec = await driveIn(id, o);
    expect(exec.execution_status).toBe("paused");
    // The token is on the execution (for who may resume), never in the action's outputs.
    const token = exec.resume_token as string;
    expect(token.startsWith(`${id}.`)).toBe(true);
    expect(exec.actions[0].outputs).toMatchObject({ waiting_for_confirmation: true });
    expect(JSON.stringify(exec.actions)).not.toContain(token);
    expect(JSON.parse((await sinkRequests("/resend/"))[0].body)).toMatchObject({
      to: "epilot@example.com",
      template: { id: "offer", variables: { NAME: "x" } },
    });
    const ok = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(ok.status).toBe(200);
    exec = await driveIn(id, o);
    expect(exec.execution_status).toBe("success");
    expect(await sinkRequests("/resend/")).toHaveLength(1);
  });

  it("without a recipient, or without an e-mail connection, it fails clearly", async () => {
    const o = org();
    const flow = await createFlow(
      {
        flow_name: "no-conn",
        actions: [{ id: "m", type: "send_email", config: { to: "a@example.com", body: "x", subject: "s" } }],
      },
      o,
    );
    let exec = await driveIn(await startExec(flow.id, "none", o), o);
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG", error_info: { code: "NO_CONNECTION" } });
    await connect("resend", CONFIGS.resend, o);
    const noTo = await createFlow(
      { flow_name: "no-to", actions: [{ id: "m", type: "send-email", config: { template: "t" } }] },
      o,
    );
    exec = await driveIn(await startExec(noTo.id, "none", o), o);
    expect(exec.actions[0].error_output.error_reason).toContain("needs `to`");
  });
});

describe("send_notification and the inbox", () => {
  it("writes an in-app notification that its user lists and marks read", async () => {
    const o = org();
    const rec = await createRecord("deal", { name: "Big deal", value: 60000, owner_id: "owner-9" }, o);
    const flow = await createFlow(
      {
        flow_name: "notify",
        actions: [
          {
            id: "n",
            type: "send_notification",
            config: {
              user_id: "{{ record.owner_id }}",
              title: "New high-value deal",
              message: "{{ record.name }} - ${{ record.value }}",
              link: "/deals/{{ record._id }}",
            },
          },
        ],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, rec._id, o), o);
    expect(exec.execution_status).toBe("success");
    const token = await jwtFor("owner-9", o, "automations:read");
    const inbox = await call("GET", "/v1/notifications", { token });
    expect(inbox.body).toMatchObject({ total: 1, unread: 1 });
    const note = inbox.body.results[0];
    expect(note).toMatchObject({
      title: "New high-value deal",
      message: "Big deal - $60000",
      link: `/deals/${rec._id}`,
      read: false,
      source: { execution_id: exec.id, action_id: "n" },
    });
    expect(note.id).toBe(exec.actions[0].outputs.notification_id);

    const other = await jwtFor("someone-else", o, "automations:read");
    expect((await call("GET", "/v1/notifications", { token: other })).body.total).toBe(0);
    expect((await call("POST", `/v1/notifications/${note.id}/read`, { token: other })).status).toBe(404);
    expect((await call("GET", "/v1/notifications?user_id=owner-9", { token: other })).status).toBe(403);

    const read = await call("POST", `/v1/notifications/${note.id}/read`, { token });
    expect(read.body).toMatchObject({ id: note.id, read: true });
    expect((await call("GET", "/v1/notifications?unread_only=true", { token })).body).toMatchObject({ total: 0, unread: 0 });
    const unread = await call("POST", `/v1/notifications/${note.id}/read`, { token, body: { read: false } });
    expect(unread.body.read).toBe(false);
    expect((await call("POST", "/v1/notifications/read-all", { token })).body).toEqual({ marked: 1 });
    expect((await call("GET", "/v1/notifications", { token: null })).status).toBe(401);
  });
});
