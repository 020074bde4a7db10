import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { createFlow, errorPaths, minimalFlow, sampleFlow } from "./flows-fixtures";

const post = (body: unknown) => call("POST", "/v1/automation/flows", { body });

/** Posts `body` and expects a 400 naming exactly `paths`; returns the error details. */
async function rejects(body: unknown, paths: string[]) {
  const res = await post(body);
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("VALIDATION_ERROR");
  expect(errorPaths(res.body)).toEqual([...paths].sort());
  return res.body.error.details as { path: string; message: string }[];
}

describe("flows: validation", () => {
  it("names each missing or mistyped top-level field", async () => {
    await rejects({}, ["actions", "flow_name", "triggers"]);
    await rejects({ flow_name: 5, triggers: {}, actions: "x", enabled: "yes" }, ["actions", "enabled", "flow_name", "triggers"]);
    await rejects({ ...minimalFlow(), flow_name: "" }, ["flow_name"]);
    await rejects({ ...minimalFlow(), flow_name: "x".repeat(LIMITS.MAX_NAME_LENGTH + 1) }, ["flow_name"]);
    await rejects({ ...minimalFlow(), triggers: [] }, ["triggers"]);
    await rejects({ ...minimalFlow(), concurrency_limit: 0, max_executions: { count: 0, window: "1 minute" } }, [
      "concurrency_limit",
      "max_executions.count",
      "max_executions.window",
    ]);
    await rejects({ ...minimalFlow(), retry_policy: { max_attempts: 11, backoff_seconds: [0, 86_401] } }, [
      "retry_policy.backoff_seconds.0",
      "retry_policy.backoff_seconds.1",
      "retry_policy.max_attempts",
    ]);
    await rejects({ ...minimalFlow(), error_handling: { disable_after_failures: 0, notify_url: "not a url" } }, [
      "error_handling.disable_after_failures",
      "error_handling.notify_url",
    ]);
  });

  it("rejects unknown trigger and action types with a message listing the known ones", async () => {
    const details = await rejects(
      { flow_name: "x", triggers: [{ type: "telepathy" }], actions: [{ type: "teleport", config: {} }] },
      ["actions.0.type", "triggers.0.type"],
    );
    const trigger = details.find((d) => d.path === "triggers.0.type")!;
    expect(trigger.message).toContain('"telepathy"');
    expect(trigger.message).toContain("schedule, webhook, manual");
    const action = details.find((d) => d.path === "actions.0.type")!;
    expect(action.message).toContain('"teleport"');
    expect(action.message).toContain("call_webhook");
    await rejects({ flow_name: "x", triggers: [{}], actions: [{ config: {} }] }, ["actions.0.type", "triggers.0.type"]);
  });

  it("validates cron expressions and time zones with croner, naming the field", async () => {
    const flow = (configuration: unknown) => ({
      flow_name: "cron",
      triggers: [{ type: "schedule", configuration }],
      actions: [],
    });
    const zone = await rejects(flow({ cron: "0 9 * * 1-5", timezone: "Mars/Olympus" }), ["triggers.0.configuration.timezone"]);
    expect(zone[0].message).toContain("Mars/Olympus");
    await rejects(flow({ cron: "61 * * * *" }), ["triggers.0.configuration.cron"]);
    await rejects(flow({ cron: "* * * *" }), ["triggers.0.configuration.cron"]);
    await rejects(flow({ cron: "0 0 0 * * * 2030" }), ["triggers.0.configuration.cron"]);
    await rejects(flow({ cron: "@daily" }), ["triggers.0.configuration.cron"]);
    await rejects(flow({ cron: "0 0 30 2 *" }), ["triggers.0.configuration.cron"]);
    await rejects(flow({ cron: "0 9 * * *", tz: "UTC" }), ["triggers.0.configuration"]);
    await rejects(flow({}), ["triggers.0.configuration.cron"]);
    expect((await post(flow({ cron: "0 9 * * MON-FRI", timezone: "America/New_York" }))).status).toBe(201);
  });

  it("validates trigger configurations", async () => {
    await rejects(
      {
        flow_name: "x",
        triggers: [
          { type: "webhook", configuration: { path: "has space", allow_unsigned: true } },
          { type: "webhook", configuration: { path: "ok", secret: "short" } },
          { type: "journey_submission", configuration: {} },
          { type: "new_email_thread", configuration: { direction: "SIDEWAYS" } },
          { type: "entity_operation", configuration: { operations: ["explodeEntity"] } },
          { type: "record.created", configuration: {} },
          { type: "field.changed", configuration: { module: "deals" } },
          { type: "event", configuration: { event_name: "" } },
          { type: "entity_operation" },
        ],
        actions: [],
      },
      [
        "triggers.0.configuration.path",
        "triggers.1.configuration.secret",
        "triggers.2.configuration.source_id",
        "triggers.3.configuration.direction",
        "triggers.4.configuration.operations.0",
        "triggers.5.configuration.module",
        "triggers.6.configuration.field",
        "triggers.7.configuration.event_name",
        "triggers.8.configuration",
      ],
    );
  });

  it("validates action configurations, allowing templates where values may be rendered", async () => {
    await rejects(
      {
        flow_name: "x",
        triggers: [{ type: "manual" }],
        actions: [
          { type: "call_webhook", config: { url: "ftp://example.com" } },
          { type: "call_webhook", config: { url: "https://example.com", method: "BREW", timeout_ms: 50 } },
          { type: "call_webhook", config: { url: "https://example.com", verb: "GET" } },
          { type: "trigger-webhook", config: { sync: true } },
          { type: "delay", config: { duration: 2, unit: "weeks" } },
          { type: "delay", config: { duration: 1441, unit: "minutes" } },
          { type: "delay", config: { duration: -1 } },
          { type: "create_record", config: { module: "tasks" } },
          { type: "update_record", config: { record: "related", updates: {} } },
          { type: "send_email", config: { to: "not-an-address", subject: "hi" } },
          { type: "send_notification", config: { title: "x" } },
          { type: "integration", config: { platform: "slack" } },
          { type: "trigger-event", config: {} },
          { type: "map-entity", config: {} },
          { type: "forward-email", config: { forward_to: [] } },
          { type: "send-email", config: { language_code: "fr" } },
          { type: "delay", config: { duration: 1 }, retry_policy: { max_attempts: 0 } },
        ],
      },
      [
        "actions.0.config.url",
        "actions.1.config.method",
        "actions.1.config.timeout_ms",
        "actions.2.config",
        "actions.3.config.url",
        "actions.4.config.unit",
        "actions.5.config.duration",
        "actions.6.config.duration",
        "actions.7.config.data",
        "actions.8.config.module",
        "actions.8.config.record_id",
        "actions.9.config.body",
        "actions.9.config.to",
        "actions.10.config.user_id",
        "actions.11.config.action",
        "actions.12.config.event_name",
        "actions.13.config.target_schema",
        "actions.14.config.forward_to",
        "actions.15.config.language_code",
        "actions.16.retry_policy.max_attempts",
      ],
    );
    const ok = await post({
      flow_name: "templates",
      triggers: [{ type: "manual" }],
      actions: [
        { type: "call_webhook", config: { url: "{{ record.callback_url }}" } },
        { type: "delay", config: { duration: "{{ record.wait_seconds }}" } },
        { type: "send_email", config: { to: "{{ record.email }}", body: "Hi {{ record.name }}" } },
      ],
    });
    expect(ok.status).toBe(201);
  });

  it("parses the templates of action configs at save time and names each broken one", async () => {
    const details = await rejects(
      {
        flow_name: "bad templates",
        triggers: [{ type: "manual" }],
        actions: [
          { type: "delay", config: { duration: 1 } },
          {
            type: "call_webhook",
            config: {
              url: "https://example.com/{{ record.id }}",
              body: { text: "Hi {% if record.vip %}VIP", ok: "{{ record.name }}" },
            },
          },
          { type: "create_record", config: { module: "tasks", data: { items: ["fine", "Dear {{ record.name"] } } },
        ],
      },
      ["actions.1.config.body.text", "actions.2.config.data.items.1"],
    );
    expect(details.every((d) => d.message.startsWith("Invalid template"))).toBe(true);
  });

  it("requires references between actions, conditions, schedules and loops to resolve, and ids to be unique", async () => {
    await rejects(
      sampleFlow({
        triggers: [
          { id: "t1", type: "manual" },
          { id: "t1", type: "webhook", configuration: { path: "p", allow_unsigned: true } },
          { type: "webhook", configuration: { path: "p", allow_unsigned: true } },
        ],
        conditions: [
          { id: "c1", schedule_id: "missing-schedule" },
          { id: "c1", field: "x", operator: "equals" },
        ],
        actions: [
          { id: "a1", type: "delay", config: { duration: 1 }, condition_id: "nope", schedule_id: "nope", loop_id: "nope" },
          { id: "a1", type: "delay", config: { duration: 1 } },
          { id: "bad:id", type: "delay", config: { duration: 1 } },
        ],
      }),
      [
        "actions.0.condition_id",
        "actions.0.loop_id",
        "actions.0.schedule_id",
        "actions.1.id",
        "actions.2.id",
        "conditions.0.schedule_id",
        "conditions.1.id",
        "triggers.1.id",
        "triggers.2.configuration.path",
      ],
    );
  });

  it("enforces the count limits", async () => {
    const many = (n: number) => Array.from({ length: n }, () => ({ type: "delay", config: { duration: 1 } }));
    await rejects({ ...minimalFlow(), actions: many(LIMITS.MAX_ACTIONS_PER_FLOW + 1) }, ["actions"]);
    await rejects(
      { ...minimalFlow(), triggers: Array.from({ length: LIMITS.MAX_TRIGGERS_PER_FLOW + 1 }, () => ({ type: "manual" })) },
      ["triggers"],
    );
    expect((await post({ ...minimalFlow(), actions: many(LIMITS.MAX_ACTIONS_PER_FLOW) })).status).toBe(201);
  });

  it("answers 400 for malformed JSON, 415 for a non-JSON body and 413 above the size limits", async () => {
    const malformed = await call("POST", "/v1/automation/flows", {
      rawBody: '{"flow_name": ',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("MALFORMED_REQUEST");
    const notJson = await call("POST", "/v1/automation/flows", {
      rawBody: "flow_name=x",
      headers: { "content-type": "text/plain" },
    });
    expect(notJson.status).toBe(415);
    expect(notJson.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const array = await post([minimalFlow()]);
    expect(array.status).toBe(400);

    const huge = await post({ ...minimalFlow(), description: "x".repeat(LIMITS.MAX_REQUEST_BODY_BYTES) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("PAYLOAD_TOO_LARGE");

    // Under the request limit but over the stored flow limit.
    const bulky = Array.from({ length: 40 }, () => ({
      type: "create_record",
      config: { module: "m", data: { blob: "y".repeat(8000) } },
    }));
    const tooBig = await post({ ...minimalFlow(), actions: bulky });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("FLOW_TOO_LARGE");
    expect(tooBig.body.error.message).toContain(String(LIMITS.MAX_FLOW_BYTES));
  });

  it("answers 405 for a wrong method", async () => {
    const flow = await createFlow(minimalFlow());
    const patch = await call("PATCH", `/v1/automation/flows/${flow.id}`, { body: {} });
    expect(patch.status).toBe(405);
    expect(patch.headers.get("allow")).toContain("PUT");
    expect((await call("DELETE", "/v1/automation/flows")).status).toBe(405);
    expect((await call("GET", "/v1/automation/flows:batchGet")).status).toBe(405);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/enable`)).status).toBe(405);
  });

  it("changes nothing when an update is rejected", async () => {
    const flow = await createFlow(sampleFlow());
    const attempts = [
      { ...flow, triggers: [{ type: "schedule", configuration: { cron: "nope" } }] },
      { ...flow, actions: [{ type: "teleport" }] },
      { ...flow, actions: [{ ...flow.actions[1], condition_id: "ghost" }] },
      { ...flow, flow_name: 42 },
    ];
    for (const body of attempts) expect((await call("PUT", `/v1/automation/flows/${flow.id}`, { body })).status).toBe(400);
    const malformed = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    const after = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(after.body).toEqual(flow);
  });
});
