import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ACTION_TYPES } from "../../src/schemas/actions";
import { EPILOT_ACTIONS } from "../../src/schemas/actions/epilot";
import { actionHandler } from "../../src/actions/registry";
import { call } from "../helpers";
import { CONFIGS, connect, driveIn } from "../integrations/support";
import { SINK, createRecord, recordEvents, sinkReset } from "../support/engine";
import { pdfTextRuns } from "./pdf-text";
import { create, fetchRaw, flowIn, freshOrg, runFlow, sinkJson } from "./support";

/**
 * The fifteen epilot action types, each run end to end against the test sink. The platform's types have their own
 * files (webhook-targets: trigger-webhook, inform-erp; email-templates: send-email; inboxes: reply-email,
 * forward-email, move-thread, assign-thread; documents: create-document; partners: trigger-share-entity; mapping:
 * map-entity, cart-checkout); the four below need no platform resource. Then the document's example flow,
 * "Handle contact form", grown to use six of them.
 */

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

const executionsOf = async (org: string, flowId: string): Promise<{ id: string; entity_id: string }[]> =>
  (await call("GET", `/v1/automation/executions?flow_id=${flowId}&size=100`, { org })).body.results;

describe("every epilot action type has a handler that does real work", () => {
  it("the fifteen types of the document are all registered", () => {
    const epilot = EPILOT_ACTIONS.map((s) => s.shape.type.value);
    expect(epilot).toHaveLength(15);
    for (const type of epilot) {
      expect(ACTION_TYPES).toContain(type);
      expect(actionHandler(type), type).toBeDefined();
    }
  });

  it("trigger-workflow starts the target flow, whose action reaches the sink", async () => {
    const org = freshOrg();
    const child = await flowIn(org, [
      { id: "c", type: "call_webhook", config: { url: `${SINK}/child`, body: { from: "child" } } },
    ]);
    const parent = await flowIn(org, [{ id: "p", type: "trigger-workflow", config: { target_workflow: child.id } }]);
    const exec = await runFlow(org, parent.id);
    expect(exec.execution_status).toBe("success");
    const childExec = await driveIn(exec.actions[0].outputs.execution_id, org);
    expect(childExec.execution_status).toBe("success");
    expect((await sinkJson("/child"))[0].json).toEqual({ from: "child" });
  });

  it("trigger-event raises an event that starts the flows listening for it", async () => {
    const org = freshOrg();
    const listener = await create(org, "/v1/automation/flows", {
      flow_name: "listener",
      triggers: [{ type: "event", configuration: { event_name: "deal.won" } }],
      actions: [
        { id: "l", type: "call_webhook", config: { url: `${SINK}/won`, body: { amount: "{{ trigger.payload.amount }}" } } },
      ],
    });
    const emitter = await flowIn(org, [
      { id: "e", type: "trigger-event", config: { event_name: "deal.won", event_inputs: { amount: 42 } } },
    ]);
    const { sent, restore } = recordEvents();
    try {
      const exec = await runFlow(org, emitter.id);
      expect(exec.actions[0].outputs).toMatchObject({ event_name: "deal.won" });
      await deliver(sent);
    } finally {
      restore();
    }
    const [started] = await executionsOf(org, listener.id);
    await driveIn(started.id, org);
    expect((await sinkJson("/won"))[0].json).toEqual({ amount: 42 });
  });

  it("custom-action calls its app and waits for the callback; cancel-flow-execution ends the run as cancelled", async () => {
    const org = freshOrg();
    const flow = await flowIn(org, [
      {
        id: "app",
        type: "custom-action",
        config: { name: "Credit check", url: `${SINK}/app`, wait_for_callback: true, payload: { x: 1 } },
      },
      {
        id: "stop",
        type: "cancel-flow-execution",
        config: { selected_reasons: [{ id: "r", title: "Rejected" }], extra_description: "score too low" },
      },
      { id: "never", type: "call_webhook", config: { url: `${SINK}/never` } },
    ]);
    let exec = await runFlow(org, flow.id);
    expect(exec.execution_status).toBe("paused");
    const [app] = await sinkJson("/app");
    expect(app.json).toMatchObject({
      execution_id: exec.id,
      action_id: "app",
      payload: { x: 1 },
      resume_token: exec.resume_token,
    });
    const resumed = await call("POST", "/v1/automation/public/executions:resume", {
      token: null,
      body: { resume_token: exec.resume_token },
    });
    expect(resumed.status).toBe(200);
    exec = await driveIn(exec.id, org);
    expect(exec.execution_status).toBe("cancelled");
    expect(await sinkJson("/never")).toHaveLength(0);
  });
});

describe("the document's example flow, Handle contact form, with six epilot action types", () => {
  it("a frontend submission is mapped to a contact, confirmed with a PDF by e-mail, sent to the ERP and a hook, and shared", async () => {
    const org = freshOrg();
    const partner = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    await call("POST", "/v1/partners", { org, body: { partner_org_id: partner } });
    await call("POST", "/v1/partners", { org: partner, body: { partner_org_id: org } });
    const mapping = await create(org, "/v1/mapping-configs", {
      name: "Contact form",
      source_schema: "submission",
      targets: [
        {
          id: "contact",
          target_schema: "contact",
          target_unique: ["email"],
          mapping_attributes: [
            { target: "email", operation: { _copy: "email" } },
            { target: "first_name", operation: { _copy: "first_name" } },
            { target: "source", operation: { _set: "contact form" } },
          ],
        },
      ],
    });
    const confirmation = await create(org, "/v1/document-templates", {
      name: "Confirmation",
      content: "# Thank you, {{ entity.first_name }}\n\nWe received your request about **{{ entity.topic }}**.",
    });
    const mail = await create(org, "/v1/email-templates", {
      name: "Thanks",
      de: { subject: "Danke, {{ entity.first_name }}", body_html: "<p>Ihre Bestätigung liegt bei.</p>" },
    });
    const erp = await create(org, "/v1/webhook-targets", {
      name: "ERP",
      url: `${SINK}/erp`,
      auth: { type: "bearer", token: "erp-token-1" },
    });
    const hook = await create(org, "/v1/webhook-targets", { name: "Hook", url: `${SINK}/hook` });
    // The document's example: "Handle contact form", a frontend_submission (source 99) on a submission record.
    const flow = await create(org, "/v1/automation/flows", {
      flow_name: "Handle contact form",
      entity_schema: "submission",
      triggers: [{ type: "frontend_submission", configuration: { source_id: "99" } }],
      trigger_conditions: [{ source: "payload.channel", comparison: "equals", value: "web" }],
      conditions: [{ id: "c1", statements: [{ operation: "is_not_empty", source: { origin: "trigger", attribute: "email" } }] }],
      actions: [
        {
          id: "map",
          name: "Map",
          type: "map-entity",
          config: { target_schema: "contact", mapping_config: { config_id: mapping.id, target_id: "contact" } },
        },
        {
          id: "doc",
          name: "Confirmation",
          type: "create-document",
          config: { template_id: confirmation.id, filename: "confirmation-{{ entity.first_name }}" },
        },
        {
          id: "email",
          name: "Email",
          type: "send-email",
          condition_id: "c1",
          config: {
            email_template_id: mail.id,
            language_code: "de",
            attachments: [{ file_id: "{{ actions.doc.outputs.file_id }}" }],
          },
        },
        {
          id: "erp",
          name: "ERP",
          type: "inform-erp",
          config: { target_webhook_id: erp.id, entity_sources: ["contact"], sync: true },
        },
        { id: "hook", name: "Hook", type: "trigger-webhook", config: { target_webhook_id: hook.id } },
        { id: "share", name: "Share", type: "trigger-share-entity", config: { partner_org_ids: [partner] } },
      ],
    });
    const submission = await createRecord(
      "submission",
      { status: "new", email: "ada@example.com", first_name: "Ada", topic: "solar panels" },
      org,
    );
    const { sent, restore } = recordEvents();
    try {
      const res = await call("POST", "/v1/automation/events", {
        org,
        body: { type: "frontend_submission", source_id: "99", entity_id: submission._id, payload: { channel: "web" } },
      });
      expect(res.status).toBe(202);
      await deliver(sent.filter((e: any) => e.type === "frontend_submission"));
    } finally {
      restore();
    }
    const [started] = await executionsOf(org, flow.id);
    const exec = await driveIn(started.id, org);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    const out = Object.fromEntries(exec.actions.map((a: any) => [a.id, a.outputs]));

    // map-entity: the contact, linked back on the submission.
    const contact = (await call("GET", `/v1/entities/contact/${out.map.entity_id}`, { org })).body;
    expect(contact).toMatchObject({ email: "ada@example.com", first_name: "Ada", source: "contact form" });
    // create-document: a PDF with the rendered values, attached to the submission.
    const pdf = await fetchRaw(org, `/v1/files/${out.doc.file_id}`);
    expect((await pdfTextRuns(pdf.bytes)).join(" ")).toContain("Thank you, Ada");
    expect(out.doc.filename).toBe("confirmation-Ada.pdf");
    // send-email: the German template, with the PDF attached.
    const [email] = await sinkJson("/resend/emails");
    expect(email.json).toMatchObject({ to: "ada@example.com", subject: "Danke, Ada" });
    expect(email.json.attachments).toEqual([
      { filename: "confirmation-Ada.pdf", content: expect.any(String), content_type: "application/pdf" },
    ]);
    expect(atob(email.json.attachments[0].content).startsWith("%PDF-")).toBe(true);
    // inform-erp: the submission with its mapped contact, the ERP's answer as outputs (sync).
    const [erpCall] = await sinkJson("/erp");
    expect(erpCall.headers.authorization).toBe("Bearer erp-token-1");
    expect(erpCall.json.entity._id).toBe(submission._id);
    expect(erpCall.json.relations.map((r: any) => r._id)).toEqual([out.map.entity_id]);
    expect(out.erp).toMatchObject({ status: 200, body: { path: "/erp" } });
    // trigger-webhook: the same event shape to the hook.
    expect((await sinkJson("/hook"))[0].json.metadata).toMatchObject({
      action: "trigger-webhook",
      automation_name: "Handle contact form",
    });
    // trigger-share-entity: the partner reads the submission.
    const shared = await call("GET", `/v1/shared-entities/${submission._id}`, { org: partner });
    expect(shared.body).toMatchObject({
      _source_org: org,
      first_name: "Ada",
      mapped_entities: [{ entity_id: out.map.entity_id }],
    });
  });
});
