import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "../helpers";
import { actionHandler } from "../../src/actions/registry";
import { createRecord } from "../support/engine";
import { pdfPageCount, pdfTextRuns } from "./pdf-text";
import { create, fetchRaw, flowIn, freshOrg, refusedFlow, runFlow } from "./support";

const OFFER = [
  "# Offer {{ entity.offer_number }}",
  "",
  "Dear **{{ entity.first_name }} {{ entity.last_name }}**, thank you for your interest in _solar_.",
  "",
  "- Panels: {{ entity.panels }}",
  "- Price: {{ entity.price }} €",
  "",
  "| Item | Amount |",
  "|------|--------|",
  "{% for item in entity.items %}| {{ item.name }} | {{ item.amount }} |",
  "{% endfor %}",
  "---",
  "Grüße aus Köln",
].join("\n");

const CUSTOMER = {
  first_name: "Ada",
  last_name: "Lovelace",
  offer_number: "A-2024-7",
  panels: 12,
  price: "9.999,00",
  items: [
    { name: "Inverter", amount: 1 },
    { name: "Battery", amount: 2 },
  ],
};

describe("document templates: resource", () => {
  it("creates, reads, updates and deletes; refuses bad input; another organization's ids are 404", async () => {
    const org = freshOrg();
    const t = await create(org, "/v1/document-templates", { name: "Offer", content: OFFER });
    expect(t).toMatchObject({ name: "Offer", format: "markdown", content: OFFER });
    expect((await call("GET", `/v1/document-templates/${t.id}`, { org })).body).toEqual(t);
    const upd = await call("PATCH", `/v1/document-templates/${t.id}`, {
      org,
      body: { format: "html", content: "<h1>{{ entity.x }}</h1>" },
    });
    expect(upd.body).toMatchObject({ format: "html", content: "<h1>{{ entity.x }}</h1>" });
    const cases: [unknown, string][] = [
      [{ name: "x", content: "{% for %}" }, "content"],
      [{ name: "x", content: "x", format: "docx" }, "format"],
      [{ name: "x", content: "" }, "content"],
      [{ content: "x" }, "name"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/document-templates", { org, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
    }
    const bad = await call("PATCH", `/v1/document-templates/${t.id}`, { org, body: { content: "{{ x | nope }}" } });
    expect(bad.status).toBe(400);
    const other = freshOrg();
    expect((await call("GET", `/v1/document-templates/${t.id}`, { org: other })).status).toBe(404);
    expect((await call("DELETE", `/v1/document-templates/${t.id}`, { org: other })).status).toBe(404);
    expect(await refusedFlow(other, [{ type: "create-document", config: { template_id: t.id } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.template_id", code: "unknown_reference" }),
    ]);
    expect((await call("DELETE", `/v1/document-templates/${t.id}`, { org })).status).toBe(200);
  });
});

describe("create-document", () => {
  it("renders the template into a real PDF, stores it in FILES and attaches it to the record", async () => {
    const org = freshOrg();
    const rec = await createRecord("opportunity", CUSTOMER, org);
    const t = await create(org, "/v1/document-templates", { name: "Offer", content: OFFER });
    const flow = await flowIn(org, [
      { id: "doc", type: "create-document", config: { template_id: t.id, filename: "offer-{{ entity.offer_number }}" } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const out = exec.actions[0].outputs;
    expect(out).toMatchObject({ filename: "offer-A-2024-7.pdf", content_type: "application/pdf", entity_id: rec._id });
    const dl = await fetchRaw(org, `/v1/files/${out.file_id}`);
    expect(dl.status).toBe(200);
    expect(dl.bytes.byteLength).toBe(out.size);
    expect(new TextDecoder().decode(dl.bytes.subarray(0, 5))).toBe("%PDF-");
    expect(new TextDecoder().decode(dl.bytes.subarray(-6))).toContain("%%EOF");
    expect(await pdfPageCount(dl.bytes)).toBe(1);
    const text = (await pdfTextRuns(dl.bytes)).join(" ");
    for (const value of [
      "Offer A-2024-7",
      "Ada",
      "Lovelace",
      "Panels: 12",
      "9.999,00 €",
      "Inverter",
      "Battery",
      "Grüße aus Köln",
    ]) {
      expect(text, value).toContain(value);
    }
    const files = await call("GET", `/v1/entities/opportunity/${rec._id}/files`, { org });
    expect(files.body.results).toEqual([
      expect.objectContaining({ id: out.file_id, source: "document", filename: "offer-A-2024-7.pdf" }),
    ]);

    // A second attempt of the same action (same idempotency key) writes the same file again, not a second one.
    const handler = actionHandler("create-document")!;
    const ctx = {
      env,
      orgId: org,
      executionId: exec.id,
      flowId: flow.id,
      actionId: "doc",
      attempt: 2,
      idempotencyKey: `${exec.id}:doc`,
      now: Date.now(),
      depth: 0,
      entityId: rec._id,
      entity: (await call("GET", `/v1/entities/opportunity/${rec._id}`, { org })).body,
      triggerEvent: {},
      issueResumeToken: async () => ({ token: "", hash: "" }),
      templateContext: () => ({ entity: ctx.entity, now: Date.now() }),
    };
    const second = await handler.run(ctx, { template_id: t.id, filename: "offer-A-2024-7" });
    expect(second).toMatchObject({ kind: "success", outputs: { file_id: out.file_id } });
    expect((await call("GET", `/v1/entities/opportunity/${rec._id}/files`, { org })).body.total).toBe(1);
  });

  it("writes HTML when the filename says .html, and lays out HTML templates in PDFs", async () => {
    const org = freshOrg();
    const rec = await createRecord("contact", { name: "Zoë", city: "Berlin" }, org);
    const md = await create(org, "/v1/document-templates", {
      name: "Card <1>",
      content: "## Hi {{ entity.name }}\n\n*{{ entity.city }}*",
    });
    const html = await create(org, "/v1/document-templates", {
      name: "Letter",
      format: "html",
      content:
        "<h1>Letter for {{ entity.name }}</h1><p>Lives in <b>{{ entity.city }}</b>.<br>Second line</p><ul><li>one</li><li>two</li></ul>" +
        "<table><tr><th>k</th><th>v</th></tr><tr><td>city</td><td>{{ entity.city }}</td></tr></table><script>ignored()</script>",
    });
    const flow = await flowIn(org, [
      { id: "h", type: "create-document", config: { template_id: md.id, filename: "card.html" } },
      { id: "p", type: "create-document", config: { template_id: html.id } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    expect(exec.actions[0].outputs).toMatchObject({ filename: "card.html", content_type: "text/html; charset=utf-8" });
    const page = new TextDecoder().decode((await fetchRaw(org, `/v1/files/${exec.actions[0].outputs.file_id}`)).bytes);
    expect(page).toContain("<title>Card &#60;1&#62;</title>");
    expect(page).toContain("<h2>Hi Zoë</h2>");
    expect(page).toContain("<em>Berlin</em>");
    expect(exec.actions[1].outputs.filename).toBe("Letter.pdf");
    const pdf = (await fetchRaw(org, `/v1/files/${exec.actions[1].outputs.file_id}`)).bytes;
    const runs = await pdfTextRuns(pdf);
    const text = runs.join(" ");
    for (const value of ["Letter", "Zo", "Berlin", "Second", "one", "two", "city"]) expect(text, value).toContain(value);
    expect(text).not.toContain("ignored");
  });

  it("escapes the record's values in HTML and Markdown documents (| raw opts out), and the PDF shows them as text", async () => {
    const org = freshOrg();
    const rec = await createRecord("contact", { name: `<script>steal()</script>Ann & "B"`, note: "<b>kept</b>" }, org);
    const html = await create(org, "/v1/document-templates", {
      name: "Escaped",
      format: "html",
      content: "<p>For {{ entity.name }}</p><p>{{ entity.note | raw }}</p>",
    });
    const md = await create(org, "/v1/document-templates", { name: "Escaped md", content: "# For {{ entity.name }}" });
    const flow = await flowIn(org, [
      { id: "h", type: "create-document", config: { template_id: html.id, filename: "escaped.html" } },
      { id: "m", type: "create-document", config: { template_id: md.id, filename: "escaped-md.html" } },
      { id: "p", type: "create-document", config: { template_id: md.id } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => a.error_output))).toBe("success");
    const page = async (i: number) =>
      new TextDecoder().decode((await fetchRaw(org, `/v1/files/${exec.actions[i].outputs.file_id}`)).bytes);
    const htmlPage = await page(0);
    expect(htmlPage).toContain("<p>For &lt;script&gt;steal()&lt;/script&gt;Ann &amp; &#34;B&#34;</p>");
    expect(htmlPage).toContain("<p><b>kept</b></p>");
    expect(htmlPage).not.toContain("<script>");
    expect(await page(1)).not.toContain("<script>");
    const text = (await pdfTextRuns((await fetchRaw(org, `/v1/files/${exec.actions[2].outputs.file_id}`)).bytes)).join(" ");
    expect(text).toContain(`<script>steal()</script>Ann & "B"`);
  });

  it("fails with DOCUMENT_GENERATION_ERROR past the page limit, and with a clear code when the template was deleted", async () => {
    const org = freshOrg();
    const long = await create(org, "/v1/document-templates", {
      name: "Long",
      content: "{% for i in (1..3000) %}Line {{ i }}\n\n{% endfor %}",
    });
    const gone = await create(org, "/v1/document-templates", { name: "Gone", content: "x" });
    const flow = await flowIn(org, [{ id: "d", type: "create-document", config: { template_id: long.id } }]);
    const flow2 = await flowIn(org, [{ id: "d", type: "create-document", config: { template_id: gone.id } }]);
    await call("DELETE", `/v1/document-templates/${gone.id}`, { org });
    const exec = await runFlow(org, flow.id);
    expect(exec.actions[0].error_output, JSON.stringify(exec.actions[0].error_output)).toMatchObject({
      error_code: "DOCUMENT_GENERATION_ERROR",
    });
    expect(exec.actions[0].error_output.error_reason).toContain("more than 50 pages");
    const exec2 = await runFlow(org, flow2.id);
    expect(exec2.actions[0].error_output).toMatchObject({
      error_code: "BAD_CONFIG",
      error_info: { code: "DOCUMENT_TEMPLATE_NOT_FOUND" },
    });
    expect((await env.FILES.list({ prefix: `${org}/` })).objects).toHaveLength(0);
    expect(await refusedFlow(org, [{ type: "create-document", config: { filename: "x.pdf" } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.template_id", code: "required" }),
    ]);
  });
});
