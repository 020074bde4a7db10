import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { CONFIGS, connect } from "../integrations/support";
import { createRecord, sinkReset } from "../support/engine";
import { create, flowIn, freshOrg, refusedFlow, runFlow, sinkJson, upload } from "./support";

beforeEach(sinkReset);

const TEMPLATE = {
  name: "Offer",
  en: { subject: "Your offer {{ entity.offer_number }}", body_html: "<p>Hello {{ entity.first_name }}</p>" },
  de: { subject: "Ihr Angebot {{ entity.offer_number }}", body_html: "<p>Hallo {{ entity.first_name | upcase }}</p>" },
};

describe("e-mail templates: resource", () => {
  it("creates, reads, updates and deletes a template", async () => {
    const org = freshOrg();
    const t = await create(org, "/v1/email-templates", TEMPLATE);
    expect(t).toMatchObject(TEMPLATE);
    expect((await call("GET", `/v1/email-templates/${t.id}`, { org })).body).toEqual(t);
    expect((await call("GET", "/v1/email-templates", { org })).body).toEqual({ total: 1, results: [t] });
    const upd = await call("PATCH", `/v1/email-templates/${t.id}`, { org, body: { name: "Offer 2", de: null } });
    expect(upd.status).toBe(200);
    expect(upd.body.name).toBe("Offer 2");
    expect(upd.body.de).toBeUndefined();
    expect(upd.body.en).toEqual(TEMPLATE.en);
    const last = await call("PATCH", `/v1/email-templates/${t.id}`, { org, body: { en: null } });
    expect(last.status).toBe(400);
    expect((await call("DELETE", `/v1/email-templates/${t.id}`, { org })).body).toEqual({ id: t.id, deleted: true });
    expect((await call("GET", `/v1/email-templates/${t.id}`, { org })).status).toBe(404);
  });

  it("refuses bad input naming the field, and answers another organization's ids with 404", async () => {
    const org = freshOrg();
    const cases: [unknown, string][] = [
      [{ name: "x" }, "en"],
      [{ name: "x", en: { subject: "{{ entity.name ", body_html: "" } }, "en.subject"],
      [{ name: "x", de: { subject: "s", body_html: "{% if x %}" } }, "de.body_html"],
      [{ name: "x", fr: { subject: "s", body_html: "b" } }, ""],
      [{ name: "x", en: { subject: "", body_html: "b" } }, "en.subject"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/email-templates", { org, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.error.details.map((d: any) => d.path),
        JSON.stringify(res.body),
      ).toContain(path);
    }
    const t = await create(org, "/v1/email-templates", TEMPLATE);
    const other = freshOrg();
    expect((await call("GET", `/v1/email-templates/${t.id}`, { org: other })).status).toBe(404);
    expect((await call("PATCH", `/v1/email-templates/${t.id}`, { org: other, body: { name: "y" } })).status).toBe(404);
    expect((await call("DELETE", `/v1/email-templates/${t.id}`, { org: other })).status).toBe(404);
    expect(await refusedFlow(other, [{ type: "send-email", config: { email_template_id: t.id } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.email_template_id", code: "unknown_reference" }),
    ]);
  });
});

describe("send-email with an e-mail template", () => {
  it("renders the template in language_code over the execution's context and attaches the files named by attachments", async () => {
    const org = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    const rec = await createRecord(
      "contact",
      { first_name: "Ada", offer_number: "A-7", email: [{ email: "ada@example.com" }] },
      org,
    );
    const contract = await upload(org, "%PDF-1.4 contract", {
      filename: "contract.pdf",
      type: "application/pdf",
      query: { entity_schema: "contact", entity_id: rec._id, tags: "contract" },
    });
    await upload(org, "notes", { filename: "notes.txt", query: { entity_schema: "contact", entity_id: rec._id } });
    const extra = await upload(org, "terms", { filename: "terms.txt" });
    const t = await create(org, "/v1/email-templates", TEMPLATE);
    const flow = await flowIn(org, [
      {
        id: "mail",
        type: "send-email",
        config: {
          email_template_id: t.id,
          language_code: "de",
          attachments: [{ source_filter: { document_type: "document", limit: 1 } }, { file_id: extra.id }],
        },
      },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const [req] = await sinkJson("/resend/emails");
    expect(req.headers["idempotency-key"]).toBe(`${exec.id}:mail`);
    expect(req.json).toMatchObject({
      to: "ada@example.com",
      subject: "Ihr Angebot A-7",
      html: "<p>Hallo ADA</p>",
      headers: { "Message-ID": expect.stringMatching(/^<[0-9a-f-]{36}@automation-engine>$/) },
    });
    expect(req.json.attachments).toEqual([
      { filename: "contract.pdf", content: btoa("%PDF-1.4 contract"), content_type: "application/pdf" },
      { filename: "terms.txt", content: btoa("terms"), content_type: "text/plain" },
    ]);
    const outputs = exec.actions[0].outputs;
    expect(outputs).toMatchObject({
      success: true,
      language: "de",
      attachments: [{ file_id: contract.id, filename: "contract.pdf" }, { file_id: extra.id }],
    });
    // The run history keeps the attachments' names and sizes, not their bytes.
    expect(JSON.stringify(exec.actions[0].attempts)).not.toContain(btoa("%PDF-1.4 contract"));
    // The sent e-mail is recorded as an outbound message in a new thread.
    const msg = await call("GET", `/v1/entities/email_message/${outputs.message_id}`, { org });
    expect(msg.body).toMatchObject({ direction: "OUTBOUND", subject: "Ihr Angebot A-7", thread_id: outputs.thread_id });
  });

  it("falls back to the template's other language, and skip_creating_entities records nothing", async () => {
    const org = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    const rec = await createRecord("contact", { first_name: "Bo", offer_number: "B-1", email: "bo@example.com" }, org);
    const t = await create(org, "/v1/email-templates", { name: "en only", en: TEMPLATE.en });
    const flow = await flowIn(org, [
      { id: "m", type: "send-email", config: { email_template_id: t.id, language_code: "de", skip_creating_entities: true } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.actions[0].outputs).toMatchObject({ language: "en" });
    expect(exec.actions[0].outputs.thread_id).toBeUndefined();
    expect((await sinkJson("/resend/emails"))[0].json.subject).toBe("Your offer B-1");
    expect((await call("GET", "/v1/entities/email_message", { org })).body.total).toBe(0);
  });

  it("escapes the record's values in the HTML body (| raw opts out); the subject is plain text", async () => {
    const org = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    const rec = await createRecord(
      "contact",
      { first_name: `<a href="https://evil.example">Bo</a> & Co`, offer_number: "<B-1>", sig: "<i>Team</i>" },
      org,
    );
    const t = await create(org, "/v1/email-templates", {
      name: "escaping",
      en: { subject: "Offer {{ entity.offer_number }}", body_html: "<p>Hello {{ entity.first_name }}</p>{{ entity.sig | raw }}" },
    });
    const flow = await flowIn(org, [
      { id: "m", type: "send-email", config: { email_template_id: t.id, to: ["bo@example.com"], skip_creating_entities: true } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const sent = (await sinkJson("/resend/emails"))[0].json;
    expect(sent.html).toBe("<p>Hello &lt;a href=&#34;https://evil.example&#34;&gt;Bo&lt;/a&gt; &amp; Co</p><i>Team</i>");
    expect(sent.subject).toBe("Offer <B-1>");
  });

  it("fails runs whose template or attached file was deleted later, with a clear code", async () => {
    const org = freshOrg();
    await connect("resend", CONFIGS.resend, org);
    const rec = await createRecord("contact", { email: "c@example.com" }, org);
    const t = await create(org, "/v1/email-templates", TEMPLATE);
    const f = await upload(org, "x", { filename: "x.txt" });
    const flow = await flowIn(org, [{ id: "m", type: "send-email", config: { email_template_id: t.id } }]);
    const withFile = await flowIn(org, [
      { id: "m", type: "send-email", config: { subject: "s", body: "b", attachments: [{ file_id: f.id }] } },
    ]);
    await call("DELETE", `/v1/email-templates/${t.id}`, { org });
    await call("DELETE", `/v1/files/${f.id}`, { org });
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.actions[0].error_output).toMatchObject({
      error_code: "BAD_CONFIG",
      error_info: { code: "EMAIL_TEMPLATE_NOT_FOUND" },
    });
    const exec2 = await runFlow(org, withFile.id, rec._id);
    expect(exec2.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG", error_info: { code: "FILE_NOT_FOUND" } });
    expect(await sinkJson("/resend/emails")).toHaveLength(0);
    expect(await refusedFlow(org, [{ type: "send-email", config: { attachments: [{ file_id: f.id }] } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.attachments.0.file_id" }),
    ]);
  });

  it("notify_portal_user_only sends nothing: this engine has no portal users", async () => {
    const org = freshOrg();
    const t = await create(org, "/v1/email-templates", TEMPLATE);
    const flow = await flowIn(org, [
      { id: "m", type: "send-email", config: { email_template_id: t.id, notify_portal_user_only: true } },
    ]);
    const exec = await runFlow(org, flow.id);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs).toMatchObject({ sent: false });
    expect(await sinkJson("/resend")).toHaveLength(0);
  });
});
