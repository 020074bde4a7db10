import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../../helpers";
import { sinkReset } from "../../support/engine";

/**
 * Coherence (seed 004): every example request of the document, as written, against /v1/automations, each answer
 * checked against the documented shape.
 */

beforeEach(sinkReset);

const B = "/v1/automations";
let n = 0;
const newOrg = () => `coh-ex-${++n}-${crypto.randomUUID().slice(0, 6)}`;
const AUTOMATION_KEYS = [
  "actions",
  "conditions",
  "created_at",
  "description",
  "enabled",
  "id",
  "last_run_at",
  "name",
  "run_count",
  "trigger",
  "updated_at",
];

const WELCOME = {
  name: "Welcome email for new contacts",
  description: "Send a welcome email when a contact is added",
  trigger: { type: "record.created", module: "contacts" },
  conditions: [{ field: "email", operator: "is_not_empty" }],
  actions: [{ type: "send_email", config: { to: "{{record.email}}", template: "welcome_email" } }],
};

const HIGH_VALUE = {
  name: "High-value deal notification",
  trigger: { type: "record.created", module: "deals" },
  conditions: [{ field: "value", operator: "greater_than", value: 50000 }],
  actions: [
    {
      type: "send_notification",
      config: {
        user_id: "{{record.owner_id}}",
        title: "High-value deal created",
        message: "{{record.name}} - ${{record.value}}",
      },
    },
    {
      type: "call_webhook",
      config: {
        url: "https://hooks.slack.com/services/...",
        method: "POST",
        body: { text: ":moneybag: New high-value deal: {{record.name}} (${{record.value}})" },
      },
    },
  ],
};

const FOLLOW_UP = {
  name: "Create follow-up on stage change",
  trigger: { type: "field.changed", module: "deals", field: "stage" },
  conditions: [{ field: "stage", operator: "changed_to", value: "proposal" }],
  actions: [
    {
      type: "create_record",
      config: {
        module: "tasks",
        data: {
          name: "Send proposal to {{record.name}}",
          due_date: "{{now | add_days: 2}}",
          assigned_to: "{{record.owner_id}}",
          priority: "high",
        },
      },
    },
  ],
};

const DAILY = {
  name: "Daily deals summary",
  trigger: { type: "schedule", schedule: "0 9 * * 1-5" },
  actions: [{ type: "call_webhook", config: { url: "https://your-app.com/api/generate-summary", method: "POST" } }],
};

/** The action examples of "Action Types", each alone in an automation. */
const ACTION_EXAMPLES = [
  { type: "update_record", config: { record: "trigger", updates: { status: "processed", processed_at: "{{now}}" } } },
  {
    type: "update_record",
    config: {
      record: "related",
      module: "accounts",
      record_id: "{{record.account_id}}",
      updates: { last_contact_date: "{{now}}" },
    },
  },
  {
    type: "create_record",
    config: {
      module: "tasks",
      data: {
        name: "Follow up with {{record.name}}",
        due_date: "{{now | add_days: 3}}",
        assigned_to: "{{record.owner_id}}",
        related_contact: "{{record.id}}",
      },
    },
  },
  {
    type: "send_email",
    config: {
      to: "{{record.email}}",
      template: "welcome_email",
      data: { first_name: "{{record.first_name}}", company: "{{record.company}}" },
    },
  },
  {
    type: "send_email",
    config: {
      to: "{{record.email}}",
      subject: "Welcome to our platform",
      body: "Hi {{record.first_name}},\n\nThank you for signing up!",
    },
  },
  {
    type: "send_notification",
    config: {
      user_id: "{{record.owner_id}}",
      title: "New high-value deal",
      message: "{{record.name}} - ${{record.value}}",
      link: "/deals/{{record.id}}",
    },
  },
  {
    type: "call_webhook",
    config: {
      url: "https://hooks.slack.com/services/...",
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: { text: "New deal closed: {{record.name}} for ${{record.value}}" },
    },
  },
  { type: "delay", config: { duration: 300, unit: "seconds" } },
];

/** The trigger examples of "Trigger Types". */
const TRIGGER_EXAMPLES = [
  { type: "record.created", module: "contacts" },
  { type: "record.updated", module: "deals" },
  { type: "record.deleted", module: "tasks" },
  { type: "field.changed", module: "deals", field: "stage" },
  { type: "schedule", schedule: "0 9 * * 1-5" },
  { type: "webhook", webhook_path: "my-custom-webhook" },
  { type: "manual", module: "contacts" },
];

describe("Coherence document examples", () => {
  it("Create Automation: the welcome email example answers 201 {data} disabled by default, with the documented fields", async () => {
    const res = await call("POST", B, { org: newOrg(), body: WELCOME });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(["data"]);
    expect(Object.keys(res.body.data).sort()).toEqual(AUTOMATION_KEYS);
    expect(res.body.data).toMatchObject({ ...WELCOME, enabled: false, run_count: 0, last_run_at: null });
  });

  it("Examples: high-value deal, follow-up on stage change and daily summary are created as written", async () => {
    const org = newOrg();
    for (const example of [HIGH_VALUE, FOLLOW_UP, DAILY]) {
      const res = await call("POST", B, { org, body: example });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.data).toMatchObject({ name: example.name, trigger: example.trigger, actions: example.actions });
      expect(res.body.data.x_native).toBeUndefined();
    }
  });

  it("every trigger type example and every action type example is accepted as written", async () => {
    const org = newOrg();
    for (const trigger of TRIGGER_EXAMPLES) {
      const res = await call("POST", B, { org, body: { name: `t ${trigger.type}`, trigger, actions: [] } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.data.trigger).toEqual(trigger);
    }
    for (const action of ACTION_EXAMPLES) {
      const res = await call("POST", B, {
        org,
        body: { name: `a ${action.type}`, trigger: { type: "manual" }, actions: [action] },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.data.actions).toEqual([action]);
    }
  });

  it("the error_handling example is stored and returned", async () => {
    const error_handling = { notify_on_failure: true, notify_email: "[email protected]", disable_after_failures: 5 };
    const res = await call("POST", B, { org: newOrg(), body: { ...DAILY, error_handling } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.error_handling).toEqual(error_handling);
  });

  it("List Automations: {data, meta: {total, page, per_page}} with the module, enabled and trigger_type filters", async () => {
    const org = newOrg();
    await call("POST", B, { org, body: WELCOME });
    await call("POST", B, { org, body: { ...HIGH_VALUE, enabled: true } });
    await call("POST", B, { org, body: DAILY });
    const all = await call("GET", B, { org });
    expect(all.status).toBe(200);
    expect(all.body.meta).toEqual({ total: 3, page: 1, per_page: 25 });
    expect((await call("GET", `${B}?module=contacts`, { org })).body.data.map((a: any) => a.name)).toEqual([WELCOME.name]);
    expect((await call("GET", `${B}?enabled=true`, { org })).body.data.map((a: any) => a.name)).toEqual([HIGH_VALUE.name]);
    const created = (await call("GET", `${B}?trigger_type=record.created`, { org })).body;
    expect(created.data.map((a: any) => a.name).sort()).toEqual([HIGH_VALUE.name, WELCOME.name].sort());
    const paged = (await call("GET", `${B}?page=2&per_page=2`, { org })).body;
    expect(paged.meta).toEqual({ total: 3, page: 2, per_page: 2 });
    expect(paged.data).toHaveLength(1);
  });

  it("Get, Update (which disables), Enable/Disable and Delete answer as documented", async () => {
    const org = newOrg();
    const id = (await call("POST", B, { org, body: { ...WELCOME, enabled: true } })).body.data.id;
    const got = await call("GET", `${B}/${id}`, { org });
    expect(got.body.data).toMatchObject({ id, name: WELCOME.name, enabled: true });
    const updated = await call("PATCH", `${B}/${id}`, {
      org,
      body: { name: "Updated automation name", conditions: [{ field: "status", operator: "equals", value: "qualified" }] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({
      name: "Updated automation name",
      enabled: false,
      conditions: [{ field: "status", operator: "equals", value: "qualified" }],
      trigger: WELCOME.trigger,
      actions: WELCOME.actions,
    });
    expect((await call("POST", `${B}/${id}/enable`, { org })).body).toEqual({ data: { id, enabled: true } });
    expect((await call("POST", `${B}/${id}/disable`, { org })).body).toEqual({ data: { id, enabled: false } });
    expect((await call("DELETE", `${B}/${id}`, { org })).body).toEqual({ data: { id, deleted: true } });
    expect((await call("GET", `${B}/${id}`, { org })).status).toBe(404);
  });
});
