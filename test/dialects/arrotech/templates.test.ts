import { describe, expect, it } from "vitest";
import { apiKey, call } from "../../helpers";
import { sinkRequests } from "../../support/engine";
import { CONFIGS, callTool, connect } from "../../integrations/support";
import { AutomationFlowInputSchema } from "../../../src/schemas/flow";
import { TEMPLATES, TEMPLATE_CATEGORIES, TEMPLATE_DIFFICULTIES } from "../../../src/dialects/arrotech/templates";
import { requiredConnections, templateFlow, templateModel } from "../../../src/dialects/arrotech/templates-use";
import { workflowToFlowInput } from "../../../src/dialects/arrotech/workflows-translate";
import { splitToolName } from "../../../src/services/tool-names";
import { TPL, WF, newOrg } from "./support";

/** The workflow template catalog: every template is a valid flow, the list filters, and `use` binds connections. */

const use = (org: string, id: string, body?: unknown) => call("POST", `${TPL}/${id}/use`, { org, body });

describe("the catalog", () => {
  it("has at least 12 templates with unique ids, in known categories and difficulties", () => {
    expect(TEMPLATES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(TEMPLATES.map((t) => t.id)).size).toBe(TEMPLATES.length);
    for (const t of TEMPLATES) {
      expect(Object.keys(TEMPLATE_CATEGORIES), t.id).toContain(t.category);
      expect(TEMPLATE_DIFFICULTIES, t.id).toContain(t.difficulty);
      expect(t.description.length, t.id).toBeGreaterThan(20);
    }
    for (const category of Object.keys(TEMPLATE_CATEGORIES)) {
      expect(
        TEMPLATES.some((t) => t.category === category),
        category,
      ).toBe(true);
    }
  });

  it("every template is a valid flow, with its defaults and as written, and names only known tools", () => {
    for (const t of TEMPLATES) {
      const withDefaults = AutomationFlowInputSchema.safeParse(templateFlow(t));
      expect(withDefaults.success, `${t.id}: ${JSON.stringify(withDefaults.error?.issues)}`).toBe(true);
      const raw = AutomationFlowInputSchema.safeParse(workflowToFlowInput(templateModel(t, {})));
      expect(raw.success, `${t.id} raw: ${JSON.stringify(raw.error?.issues)}`).toBe(true);
      for (const s of t.steps) {
        const known = splitToolName(s.tool) !== null || ["create_record", "delay", "call_webhook"].includes(s.tool);
        expect(known, `${t.id}: ${s.tool}`).toBe(true);
      }
      // Every setup variable is used, and every `{{ variables.x }}` is declared.
      const text = JSON.stringify([t.trigger_config, t.steps]);
      const used = new Set([...text.matchAll(/variables\.([A-Za-z_]\w*)/g)].map((m) => m[1]));
      expect([...used].sort(), t.id).toEqual(t.variables.map((v) => v.name).sort());
    }
  });

  it("spans every provider that has actions", () => {
    const used = new Set(TEMPLATES.flatMap(requiredConnections));
    for (const platform of ["slack", "hubspot", "google_calendar", "resend", "twilio", "discord", "teams", "http"]) {
      expect(used, platform).toContain(platform);
    }
  });
});

describe("list, categories, get", () => {
  it("lists all templates without credentials, in the document's envelope", async () => {
    const res = await call("GET", TPL, { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: expect.any(String) });
    expect(res.body.data).toHaveLength(TEMPLATES.length);
    const digest = res.body.data.find((t: any) => t.id === "daily-webhook-digest");
    expect(digest).toMatchObject({
      category: "scheduling",
      required_connections: ["http", "slack"],
      trigger_type: "schedule",
      flow: { triggers: [{ type: "manual" }, { type: "schedule", configuration: { cron: "0 8 * * *" } }] },
    });
  });

  it("filters by category, difficulty, search and required connection", async () => {
    const ids = async (q: string) => ((await call("GET", `${TPL}${q}`, { token: null })).body.data as any[]).map((t) => t.id);
    expect((await ids("?category=monitoring")).sort()).toEqual(["failure-alert-discord", "failure-alert-teams"]);
    expect(await ids("?difficulty=advanced")).toEqual(TEMPLATES.filter((t) => t.difficulty === "advanced").map((t) => t.id));
    expect(await ids("?search=HubSpot%20slack")).toEqual(["hubspot-new-contact-to-slack", "won-deal-to-hubspot-and-slack"]);
    expect(await ids("?connection=twilio")).toEqual(["form-submission-sms", "appointment-sms-confirmation"]);
    expect(await ids("?connection=twilio&category=marketing&difficulty=beginner")).toHaveLength(2);
    expect(await ids("?connection=nothing")).toEqual([]);
    for (const q of ["?category=cooking", "?difficulty=expert", "?search="]) {
      expect((await call("GET", `${TPL}${q}`, { token: null })).status, q).toBe(400);
    }
  });

  it("lists categories with counts, and gets one template (404 for an unknown id)", async () => {
    const cats = await call("GET", `${TPL}/categories`, { token: null });
    expect(cats.status).toBe(200);
    const counts = Object.fromEntries(cats.body.data.map((c: any) => [c.id, c.template_count]));
    expect(Object.values(counts).reduce((a: number, b) => a + (b as number), 0)).toBe(TEMPLATES.length);
    expect(counts.monitoring).toBe(2);
    const one = await call("GET", `${TPL}/deal-stage-change-task`, { token: null });
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({
      id: "deal-stage-change-task",
      required_connections: [],
      flow: { actions: [{ type: "create_record", config: { module: "tasks", data: { due_in_days: 2 } } }] },
    });
    const missing = await call("GET", `${TPL}/nope`, { token: null });
    expect([missing.status, missing.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("use", () => {
  it("binds the organization's connections and creates an active workflow that runs", async () => {
    const org = newOrg("tpl");
    const slack = await connect("slack", CONFIGS.slack, org);
    const discord = await connect("discord", CONFIGS.discord, org);
    const teams = await connect("teams", CONFIGS.teams, org);
    const res = await use(org, "broadcast-announcement", { variables: { slack_channel: "#ops" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      success: true,
      message: "Workflow created",
      data: {
        connections: { slack: slack.id, discord: discord.id, teams: teams.id },
        missing_connections: [],
        workflow: {
          name: "Broadcast to Slack, Discord and Teams",
          status: "active",
          variables: { message: null },
          workflow_metadata: { template_id: "broadcast-announcement" },
          steps: [
            { tool: "slack_post_message", connection_id: slack.id, params: { channel: "#ops" } },
            { tool: "discord_post_message", connection_id: discord.id },
            { tool: "teams_post_message", connection_id: teams.id },
          ],
        },
      },
    });
    const w = res.body.data.workflow;
    expect(w.x_native).toBeUndefined();
    expect((await call("GET", `${WF}/${w.id}`, { org })).body).toEqual(w);
    const marker = `ship-${crypto.randomUUID().slice(0, 8)}`;
    const run = await call("POST", `${WF}/${w.id}/execute`, { org, body: { input_data: { message: marker } } });
    expect(run.body.status, JSON.stringify(run.body)).toBe("completed");
    for (const prefix of ["/slack/", "/discord/", "/teams/"]) {
      expect(
        (await sinkRequests(prefix)).filter((r) => r.body.includes(marker)),
        prefix,
      ).toHaveLength(1);
    }
  });

  it("creates a draft and names the missing connections; a connection in error is not picked", async () => {
    const org = newOrg("tpl");
    await connect("http", CONFIGS.http, org);
    const broken = await connect("slack", { ...CONFIGS.slack, bot_token: "xoxb-bad-token-000000" }, org, "broken");
    // A call refused for its credentials puts the connection in error.
    await callTool("slack_post_message", { connection_id: broken.id, text: "x" }, org);
    const status = (await call("GET", `/v1/connections/${broken.id}`, { org })).body.status;
    expect(status).toBe("error");
    const res = await use(org, "daily-webhook-digest", { status: "active" });
    expect(res.status).toBe(201);
    expect(res.body.message).toMatch(/draft.*slack/);
    const data = res.body.data;
    expect(data.missing_connections).toEqual(["slack"]);
    expect(data.connections).toEqual({ http: expect.any(String) });
    expect(data.workflow.status).toBe("draft");
    expect(data.workflow.steps[0].connection_id).toBe(data.connections.http);
    expect(data.workflow.steps[1].connection_id).toBeUndefined();
    expect((await call("GET", `/v1/automation/flows/${data.workflow.id}`, { org })).body.enabled).toBe(false);
    // Named explicitly, a connection in error is bound (the caller chose it).
    const chosen = await use(org, "daily-webhook-digest", { connections: { slack: broken.id } });
    expect(chosen.body.data).toMatchObject({ missing_connections: [], connections: { slack: broken.id } });
    const none = await use(newOrg("tpl"), "failure-alert-teams");
    expect(none.body.data).toMatchObject({ missing_connections: ["teams"], connections: {}, workflow: { status: "draft" } });
    // Another organization cannot see it.
    expect((await call("GET", `${WF}/${none.body.data.workflow.id}`, { org })).status).toBe(404);
  });

  it("takes connection ids and setup variables from the body; bad ones are refused and create nothing", async () => {
    const org = newOrg("tpl");
    const first = await connect("twilio", CONFIGS.twilio, org, "first");
    const second = await connect("twilio", CONFIGS.twilio, org, "second");
    const slack = await connect("slack", CONFIGS.slack, org);
    const picked = await use(org, "form-submission-sms", {
      name: "On-call SMS",
      connections: { twilio: second.id },
      variables: { notify_phone: "+15557654321" },
    });
    expect(picked.status, JSON.stringify(picked.body)).toBe(201);
    expect(picked.body.data.workflow).toMatchObject({
      name: "On-call SMS",
      trigger_type: "api_submission",
      trigger_config: { source_id: "contact-form" },
      steps: [{ connection_id: second.id, params: { to: "+15557654321" } }],
    });
    const auto = await use(org, "form-submission-sms", { variables: { notify_phone: "+15550000000" } });
    expect(auto.body.data.connections).toEqual({ twilio: first.id });

    const foreign = await connect("twilio", CONFIGS.twilio, newOrg("tpl"));
    const before = (await call("GET", WF, { org })).body.total;
    const cases: [unknown, number, string][] = [
      [{}, 400, "variables.notify_phone"],
      [{ variables: { notify_phone: 5 } }, 400, "variables.notify_phone"],
      [{ variables: { notify_phone: "+1555", nope: 1 } }, 400, "variables.nope"],
      [{ variables: { notify_phone: "+1555" }, connections: { twilio: slack.id } }, 400, "connections.twilio"],
      [{ variables: { notify_phone: "+1555" }, connections: { slack: slack.id } }, 400, "connections.slack"],
      [{ variables: { notify_phone: "+1555" }, connections: { twilio: foreign.id } }, 404, ""],
      [{ variables: { notify_phone: "+1555" }, connections: { twilio: "missing" } }, 404, ""],
      [{ status: "running" }, 400, "status"],
      [{ extra: true }, 400, ""],
    ];
    for (const [body, status, path] of cases) {
      const res = await use(org, "form-submission-sms", body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (status === 400)
        expect(
          res.body.error.details.map((d: any) => d.path),
          JSON.stringify(res.body),
        ).toContain(path);
    }
    expect((await use(org, "nope", {})).status).toBe(404);
    expect((await call("GET", WF, { org })).body.total).toBe(before);
  });

  it("needs automations:write and credentials", async () => {
    const org = newOrg("tpl");
    const reader = await apiKey(org, ["automations:read"]);
    const writer = await apiKey(org, ["automations:write"]);
    const path = `${TPL}/deal-stage-change-task/use`;
    expect((await call("POST", path, { token: reader, body: {} })).status).toBe(403);
    expect((await call("POST", path, { token: null, body: {} })).status).toBe(401);
    const ok = await call("POST", path, { token: writer, body: {} });
    expect(ok.status).toBe(201);
    expect(ok.body.data.workflow).toMatchObject({ status: "active", trigger_type: "field.changed" });
  });

  it("every template can be used in an organization with every connection", async () => {
    const org = newOrg("tpl");
    for (const platform of Object.keys(CONFIGS) as (keyof typeof CONFIGS)[]) await connect(platform, CONFIGS[platform], org);
    for (const t of TEMPLATES) {
      const required = Object.fromEntries(
        t.variables
          .filter((v) => v.required && v.default === undefined)
          .map((v) => [v.name, v.type === "string" ? "+15551234567" : 1]),
      );
      const res = await use(org, t.id, { variables: required });
      expect(res.status, `${t.id}: ${JSON.stringify(res.body)}`).toBe(201);
      expect(res.body.data.missing_connections, t.id).toEqual([]);
      expect(res.body.data.workflow.x_native, t.id).toBeUndefined();
    }
  });
});
