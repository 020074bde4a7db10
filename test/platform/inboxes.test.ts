import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { CONFIGS, connect, driveIn } from "../integrations/support";
import { createRecord, recordEvents, sinkReset } from "../support/engine";
import { create, flowIn, freshOrg, refusedFlow, runFlow, sinkJson } from "./support";

beforeEach(sinkReset);

/** Delivers queued event bodies to the events consumer as one batch. */
async function deliver(bodies: unknown[]): Promise<void> {
  if (bodies.length === 0) return;
  const batch = createMessageBatch<unknown>(
    "automation-events",
    bodies.map((body, i) => ({ id: `m-${i}-${Math.random()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

/** Posts a received_email intake event with `email`; returns the queued events (delivered to the consumer). */
async function receive(org: string, email: Record<string, unknown>, eventId?: string): Promise<any[]> {
  const { sent, restore } = recordEvents<any>();
  try {
    const res = await call("POST", "/v1/automation/events", {
      org,
      body: { type: "received_email", email, ...(eventId ? { event_id: eventId } : {}) },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await deliver(sent);
    return sent;
  } finally {
    restore();
  }
}

async function executionsOf(org: string, flowId: string): Promise<any[]> {
  const res = await call("GET", `/v1/automation/executions?flow_id=${flowId}&size=100`, { org });
  return res.body.results;
}

const INBOUND = {
  message_id: "<m1@customer.example>",
  from: { email: "customer@example.com", name: "Cara Customer" },
  to: ["support@acme.test"],
  subject: "Meter reading",
  text: "My reading is 4711.",
  html: "<p>My reading is 4711.</p>",
  attachments: [{ filename: "photo.png", content_type: "image/png", content_base64: btoa("PNGDATA") }],
};

describe("inboxes: resource", () => {
  it("creates, reads, updates and deletes an inbox; bad input and another organization's ids", async () => {
    const org = freshOrg();
    const inbox = await create(org, "/v1/inboxes", { name: "Support", address: "support@acme.test" });
    expect(inbox).toMatchObject({ name: "Support", address: "support@acme.test" });
    expect((await call("GET", `/v1/inboxes/${inbox.id}`, { org })).body).toEqual(inbox);
    expect((await call("PATCH", `/v1/inboxes/${inbox.id}`, { org, body: { address: null } })).body.address).toBeNull();
    for (const body of [{}, { name: "" }, { name: "x", address: "not-an-address" }, { name: "x", extra: 1 }]) {
      expect((await call("POST", "/v1/inboxes", { org, body })).status, JSON.stringify(body)).toBe(400);
    }
    const other = freshOrg();
    expect((await call("GET", `/v1/inboxes/${inbox.id}`, { org: other })).status).toBe(404);
    expect((await call("GET", `/v1/inboxes/${inbox.id}/threads`, { org: other })).status).toBe(404);
    expect((await call("DELETE", `/v1/inboxes/${inbox.id}`, { org: other })).status).toBe(404);
    expect((await call("DELETE", `/v1/inboxes/${inbox.id}`, { org })).status).toBe(200);
    expect((await call("GET", `/v1/inboxes/${inbox.id}`, { org })).status).toBe(404);
  });
});

describe("platform resources: the per-organization limit", () => {
  it("refuses one more than MAX_PLATFORM_RESOURCES_PER_ORG with 409", async () => {
    const org = freshOrg();
    const insert = env.DB.prepare(
      "INSERT INTO inboxes (id, org_id, name, address, created_by, created_at, updated_at) VALUES (?, ?, 'x', NULL, 'test', ?, ?)",
    );
    const at = new Date().toISOString();
    const rows = Array.from({ length: LIMITS.MAX_PLATFORM_RESOURCES_PER_ORG }, (_, i) => insert.bind(`inbox-${i}`, org, at, at));
    for (let i = 0; i < rows.length; i += 100) await env.DB.batch(rows.slice(i, i + 100));
    const res = await call("POST", "/v1/inboxes", { org, body: { name: "one too many" } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("LIMIT_REACHED");
    expect((await call("GET", "/v1/inboxes", { org })).body.total).toBe(LIMITS.MAX_PLATFORM_RESOURCES_PER_ORG);
  });
});

describe("inbound e-mail", () => {
  it("is stored as a thread and a message with its attachments, and starts received_email and new_email_thread flows", async () => {
    const org = freshOrg();
    const inbox = await create(org, "/v1/inboxes", { name: "Support" });
    const onMail = await create(org, "/v1/automation/flows", {
      flow_name: "on mail",
      triggers: [{ type: "received_email", configuration: { message_type: "RECEIVED" } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: "http://sink.test/mail", body: { s: "{{ entity.subject }}" } } }],
    });
    const onThread = await create(org, "/v1/automation/flows", {
      flow_name: "on thread",
      triggers: [{ type: "new_email_thread", configuration: { direction: "INBOUND", shared_inbox_ids: [inbox.id] } }],
      actions: [
        { id: "a", type: "call_webhook", config: { url: "http://sink.test/thread", body: { t: "{{ entity._schema }}" } } },
      ],
    });
    await receive(org, { ...INBOUND, inbox_id: inbox.id }, "mail-1");
    const threads = await call("GET", `/v1/inboxes/${inbox.id}/threads`, { org });
    expect(threads.body.total).toBe(1);
    const thread = threads.body.results[0];
    expect(thread).toMatchObject({ _schema: "email_thread", subject: "Meter reading", status: "open", inbox_id: inbox.id });
    const messages = await call("GET", "/v1/entities/email_message", { org });
    expect(messages.body.total).toBe(1);
    const message = messages.body.results[0];
    expect(message).toMatchObject({
      thread_id: thread._id,
      direction: "INBOUND",
      from: { email: "customer@example.com", name: "Cara Customer" },
      message_id: "<m1@customer.example>",
      attachments: [{ filename: "photo.png", content_type: "image/png", size: 7 }],
    });
    const files = await call("GET", `/v1/entities/email_message/${message._id}/files`, { org });
    expect(files.body.results).toEqual([
      expect.objectContaining({ filename: "photo.png", source: "email", sha256: expect.any(String) }),
    ]);

    const [mailExec] = await executionsOf(org, onMail.id);
    expect(mailExec.entity_id).toBe(message._id);
    const [threadExec] = await executionsOf(org, onThread.id);
    expect(threadExec.entity_id).toBe(thread._id);
    await driveIn(mailExec.id, org);
    await driveIn(threadExec.id, org);
    expect((await sinkJson("/mail"))[0].json).toEqual({ s: "Meter reading" });
    expect((await sinkJson("/thread"))[0].json).toEqual({ t: "email_thread" });

    // The same event again stores nothing twice; a reply joins the thread and opens none.
    await receive(org, { ...INBOUND, inbox_id: inbox.id }, "mail-1");
    await receive(
      org,
      {
        ...INBOUND,
        message_id: "<m2@customer.example>",
        in_reply_to: "<m1@customer.example>",
        subject: "Re: Meter reading",
        attachments: [],
      },
      "mail-2",
    );
    expect((await call("GET", "/v1/entities/email_message", { org })).body.total).toBe(2);
    expect((await call("GET", "/v1/entities/email_thread", { org })).body.total).toBe(1);
    expect(await executionsOf(org, onThread.id)).toHaveLength(1);
    expect(await executionsOf(org, onMail.id)).toHaveLength(2);
    expect((await call("GET", `/v1/entities/email_thread/${thread._id}`, { org })).body.message_count).toBe(2);
  });

  it("refuses an unknown inbox with 404 and malformed e-mail with 400, storing nothing", async () => {
    const org = freshOrg();
    const bad = [
      { ...INBOUND, inbox_id: "nope" },
      { ...INBOUND, from: "not an address" },
      { ...INBOUND, to: [] },
      { ...INBOUND, attachments: [{ filename: "x" }] },
      { ...INBOUND, attachments: [{ filename: "x", content_base64: "not base64!" }] },
    ];
    const statuses = [];
    for (const email of bad)
      statuses.push((await call("POST", "/v1/automation/events", { org, body: { type: "received_email", email } })).status);
    expect(statuses).toEqual([404, 400, 400, 400, 400]);
    expect((await call("GET", "/v1/entities/email_message", { org })).body.total).toBe(0);
  });
});

describe("thread actions", () => {
  /** An org with an e-mail connection, an inbox and one received e-mail; returns ids. */
  async function mailbox() {
    const org = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    const inbox = await create(org, "/v1/inboxes", { name: "Support", address: "support@acme.test" });
    const archive = await create(org, "/v1/inboxes", { name: "Archive" });
    await receive(org, { ...INBOUND, inbox_id: inbox.id });
    const message = (await call("GET", "/v1/entities/email_message", { org })).body.results[0];
    return { org, inbox, archive, message, threadId: message.thread_id as string };
  }

  it("move-thread moves the thread to target_inbox_id; assign-thread adds and removes assignees", async () => {
    const { org, inbox, archive, message, threadId } = await mailbox();
    await call("PATCH", `/v1/entities/email_thread/${threadId}`, { org, body: { assignees: ["u1", "u2"] } });
    const flow = await flowIn(org, [
      { id: "move", type: "move-thread", config: { target_inbox_id: archive.id } },
      { id: "assign", type: "assign-thread", config: { add: ["u3", "u1"], remove: ["u2"] } },
    ]);
    const exec = await runFlow(org, flow.id, message._id);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    expect(exec.actions[0].outputs).toEqual({ thread_id: threadId, previous_inbox_id: inbox.id, inbox_id: archive.id });
    expect(exec.actions[1].outputs).toEqual({ thread_id: threadId, assignees: ["u1", "u3"], added: ["u3"], removed: ["u2"] });
    const thread = (await call("GET", `/v1/entities/email_thread/${threadId}`, { org })).body;
    expect(thread).toMatchObject({ inbox_id: archive.id, assignees: ["u1", "u3"] });
  });

  it("reply-email answers in the thread with In-Reply-To and References; new_email starts a new thread", async () => {
    const { org, message, threadId } = await mailbox();
    const t = await create(org, "/v1/email-templates", {
      name: "Ack",
      de: { subject: "Re: {{ message.subject }}", body_html: "<p>Danke, {{ entity.from.name }}</p>" },
    });
    const flow = await flowIn(org, [
      { id: "reply", type: "reply-email", config: { email_template_id: t.id, language_code: "de", mark_as_done: true } },
      { id: "fresh", type: "reply-email", config: { email_template_id: t.id, reply_mode: "new_email" } },
    ]);
    const exec = await runFlow(org, flow.id, message._id);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    const [reply, fresh] = await sinkJson("/resend/emails");
    expect(reply.json).toMatchObject({
      to: "customer@example.com",
      subject: "Re: Meter reading",
      html: "<p>Danke, Cara Customer</p>",
      reply_to: "support@acme.test",
      headers: { "In-Reply-To": "<m1@customer.example>", References: "<m1@customer.example>" },
    });
    expect(fresh.json.headers["In-Reply-To"]).toBeUndefined();
    expect(exec.actions[0].outputs.thread_id).toBe(threadId);
    expect(exec.actions[1].outputs.thread_id).not.toBe(threadId);
    const thread = (await call("GET", `/v1/entities/email_thread/${threadId}`, { org })).body;
    expect(thread).toMatchObject({ status: "done", message_count: 2 });
    // The customer's answer to the reply joins the same thread (by its Message-ID) and reopens it.
    await receive(org, {
      ...INBOUND,
      message_id: "<m3@customer.example>",
      in_reply_to: reply.json.headers["Message-ID"],
      attachments: [],
    });
    expect((await call("GET", `/v1/entities/email_thread/${threadId}`, { org })).body).toMatchObject({
      status: "open",
      message_count: 3,
    });
  });

  it("forward-email forwards the message with its attachments; send-email with reply_to_sender replies in the thread", async () => {
    const { org, message, threadId } = await mailbox();
    const t = await create(org, "/v1/email-templates", { name: "Auto", en: { subject: "We got it", body_html: "<p>ok</p>" } });
    const flow = await flowIn(org, [
      {
        id: "fwd",
        type: "forward-email",
        config: { forward_to: [{ email: "ops@acme.test", name: "Ops" }], subject_prefix: "FW: " },
      },
      { id: "auto", type: "send-email", config: { email_template_id: t.id, reply_to_sender: true } },
    ]);
    const exec = await runFlow(org, flow.id, message._id);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    const [fwd, auto] = await sinkJson("/resend/emails");
    expect(fwd.json).toMatchObject({ to: ["ops@acme.test"], subject: "FW: Meter reading" });
    expect(fwd.json.text).toContain("From: customer@example.com");
    expect(fwd.json.html).toContain("<p>My reading is 4711.</p>");
    expect(fwd.json.attachments).toEqual([{ filename: "photo.png", content: btoa("PNGDATA"), content_type: "image/png" }]);
    expect(auto.json).toMatchObject({
      to: "customer@example.com",
      subject: "We got it",
      headers: { "In-Reply-To": "<m1@customer.example>" },
    });
    expect(exec.actions[1].outputs.thread_id).toBe(threadId);
    // send-email's mark_as_done defaults to true for a reply in the thread.
    expect((await call("GET", `/v1/entities/email_thread/${threadId}`, { org })).body.status).toBe("done");
  });

  it("fails clearly outside an e-mail execution, and when the target inbox was deleted; unknown inboxes are refused on save", async () => {
    const { org, archive, message } = await mailbox();
    const contact = await createRecord("contact", { name: "x" }, org);
    const flow = await flowIn(org, [{ id: "m", type: "move-thread", config: { target_inbox_id: archive.id } }]);
    const off = await runFlow(org, flow.id, contact._id);
    expect(off.actions[0].error_output).toMatchObject({ error_code: "ENTITY_NOT_FOUND" });
    expect(off.actions[0].error_output.error_reason).toContain("a contact record");
    await call("DELETE", `/v1/inboxes/${archive.id}`, { org });
    const gone = await runFlow(org, flow.id, message._id);
    expect(gone.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG", error_info: { code: "INBOX_NOT_FOUND" } });
    expect(await refusedFlow(org, [{ type: "move-thread", config: { target_inbox_id: archive.id } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.target_inbox_id", code: "unknown_reference" }),
    ]);
    expect(
      await refusedFlow(org, [
        { type: "move-thread", config: {} },
        { type: "reply-email", config: { reply_mode: "new_email" } },
      ]),
    ).toEqual([
      expect.objectContaining({ path: "actions.0.config.target_inbox_id", code: "required" }),
      expect.objectContaining({ path: "actions.1.config.email_template_id", code: "required" }),
    ]);
  });
});
