import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, createRecord, drive, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

describe("core action types", () => {
  it("delay waits on the engine clock, within Coherence's maxima", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "delay",
      actions: [
        { id: "d", type: "delay", config: { duration: 5, unit: "minutes" } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after-delay` } },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await drive(id, now);
    expect(exec.execution_status).toBe("scheduled");
    expect(exec.actions[0].execution_status).toBe("in_progress");
    await drive(id, now + 5 * 60_000 - 1);
    expect((await sinkRequests("/after-delay")).length).toBe(0);
    exec = await drive(id, now + 5 * 60_000);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs.waited_until).toBe(new Date(now + 5 * 60_000).toISOString());
  });

  it("create_record and update_record write records with templated values", async () => {
    const rec = await createRecord("contact", { name: "Ada", email: "ada@example.com" });
    const flow = await createFlow({
      flow_name: "records",
      actions: [
        {
          id: "task",
          type: "create_record",
          config: { module: "task", data: { title: "Call {{ record.name | uppercase }}", contact: "{{ record._id }}" } },
        },
        {
          id: "mark",
          type: "update_record",
          config: { record: "trigger", updates: { task_id: "{{ actions.task.outputs.record_id }}", processed: true } },
        },
      ],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("success");
    const taskId = exec.actions[0].outputs.record_id;
    const task = await call("GET", `/v1/entities/task/${taskId}`);
    expect(task.body).toMatchObject({ title: "Call ADA", contact: rec._id });
    const contact = await call("GET", `/v1/entities/contact/${rec._id}`);
    expect(contact.body).toMatchObject({ task_id: taskId, processed: true });
  });

  it("update_record fails clearly when there is no triggering record", async () => {
    const flow = await createFlow({
      flow_name: "no-record",
      actions: [{ id: "u", type: "update_record", config: { record: "trigger", updates: { a: 1 } } }],
    });
    const exec = await drive(await startExec(flow.id, "missing"));
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output.error_code).toBe("ENTITY_NOT_FOUND");
  });

  it("map-entity creates, then with target_unique updates, the mapped record and links it back", async () => {
    const rec = await createRecord("submission", { name: "S", email: "x@example.com", city: "Berlin" });
    const flow = await createFlow({
      flow_name: "map",
      actions: [
        {
          id: "m",
          type: "map-entity",
          config: {
            target_schema: "contact",
            target_unique: ["email"],
            mapping_attributes: [
              { mode: "copy_if_exists", target: "email", source: "email" },
              { mode: "set_value", target: "source", value: "web" },
              { target: "tags", operation: { _append: ["lead", "lead"], _uniq: true } },
            ],
          },
        },
      ],
    });
    const first = await drive(await startExec(flow.id, rec._id));
    expect(first.execution_status).toBe("success");
    expect(first.actions[0].outputs.operation).toBe("created");
    const second = await drive(await startExec(flow.id, rec._id));
    expect(second.actions[0].outputs.operation).toBe("updated");
    expect(second.actions[0].outputs.entity_id).toBe(first.actions[0].outputs.entity_id);
    const mapped = await call("GET", `/v1/entities/contact/${first.actions[0].outputs.entity_id}`);
    expect(mapped.body).toMatchObject({ email: "x@example.com", source: "web", tags: ["lead"] });
    const main = await call("GET", `/v1/entities/submission/${rec._id}`);
    expect(main.body.mapped_entities).toEqual([{ entity_id: first.actions[0].outputs.entity_id, _schema: "contact" }]);
  });

  it("trigger-workflow starts the target flow with the execution chain, once per attempt key", async () => {
    const child = await createFlow({
      flow_name: "child",
      actions: [{ id: "c", type: "call_webhook", config: { url: `${SINK}/child` } }],
    });
    const parent = await createFlow({
      flow_name: "parent",
      actions: [{ id: "p", type: "trigger-workflow", config: { target_workflow: child.id } }],
    });
    const exec = await drive(await startExec(parent.id));
    expect(exec.execution_status).toBe("success");
    const childId = exec.actions[0].outputs.execution_id;
    const childExec = await drive(childId);
    expect(childExec.flow_id).toBe(child.id);
    expect(childExec.workflow_context._execution_chain).toEqual({ parent_execution_id: exec.id, parent_task_id: "p", depth: 1 });
    expect(childExec.execution_status).toBe("success");
  });

  it("two flows that trigger each other stop at the chain depth limit with a clear error", async () => {
    const a = await createFlow({ flow_name: "ping", actions: [] });
    const b = await createFlow({
      flow_name: "pong",
      actions: [{ id: "to-a", type: "trigger-workflow", config: { target_workflow: a.id } }],
    });
    const put = await call("PUT", `/v1/automation/flows/${a.id}`, {
      body: {
        flow_name: "ping",
        triggers: [{ type: "manual" }],
        actions: [{ id: "to-b", type: "trigger-workflow", config: { target_workflow: b.id } }],
      },
    });
    expect(put.status).toBe(200);
    let id = await startExec(a.id);
    let depth = 0;
    let exec: any;
    for (;;) {
      exec = await drive(id);
      if (exec.execution_status === "failed") break;
      id = exec.actions[0].outputs.execution_id;
      depth++;
      expect(depth).toBeLessThan(50);
    }
    expect(exec.actions[0].error_output.error_code).toBe("TRIGGER_WORKFLOW_ERROR");
    expect(exec.actions[0].error_output.error_reason).toMatch(/chain too deep/i);
    expect(depth).toBe(10);
  });

  it("cancel-flow-execution ends the execution cancelled with its reasons", async () => {
    const flow = await createFlow({
      flow_name: "cancel",
      actions: [
        {
          id: "stop",
          type: "cancel-flow-execution",
          config: { selected_reasons: [{ id: "r", title: "Duplicate" }], extra_description: "seen before" },
        },
        { id: "never", type: "call_webhook", config: { url: `${SINK}/never` } },
      ],
    });
    const exec = await drive(await startExec(flow.id));
    expect(exec.execution_status).toBe("cancelled");
    expect(exec.cancel_reason).toBe("Duplicate: seen before");
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "cancelled"]);
  });

  it("action types that need an integration fail with BAD_CONFIG instead of pretending", async () => {
    const flow = await createFlow({
      flow_name: "email",
      actions: [{ id: "e", type: "send_email", config: { to: "a@example.com", subject: "hi", body: "x" } }],
    });
    const exec = await drive(await startExec(flow.id));
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "BAD_CONFIG" });
    expect(exec.actions[0].error_output.error_reason).toMatch(/not configured/);
  });
});

describe("webhook action edge cases", () => {
  it("refuses private targets (SSRF) at once, without retrying", async () => {
    const flow = await createFlow({
      flow_name: "ssrf",
      // A literal private URL is refused when the flow is saved (test/security/ssrf-table.test.ts); a template reaches send time.
      actions: [{ id: "x", type: "call_webhook", config: { url: "{{ 'http://169.254.169.254/latest/meta-data' }}" } }],
    });
    const exec = await drive(await startExec(flow.id));
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output.error_code).toBe("BAD_CONFIG");
    expect(exec.actions[0].attempts.length).toBe(1);
    expect((await sinkRequests("/latest")).length).toBe(0);
  });

  it("does not follow a redirect to a refused host", async () => {
    const flow = await createFlow({
      flow_name: "redirect",
      actions: [
        { id: "x", type: "call_webhook", config: { url: `${SINK}/redirect?to=${encodeURIComponent("http://10.0.0.1/admin")}` } },
      ],
    });
    const exec = await drive(await startExec(flow.id));
    expect(exec.actions[0].error_output.error_code).toBe("BAD_CONFIG");
    expect(exec.actions[0].error_output.error_reason).toMatch(/10\.0\.0\.1/);
  });

  it("times out slow targets with TIMEOUT_ERROR and truncates large responses with a flag", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "slow-and-big",
      actions: [
        {
          id: "slow",
          type: "call_webhook",
          allow_failure: true,
          retry_policy: { max_attempts: 1 },
          config: { url: `${SINK}/slow/2000`, timeout_ms: 100 },
        },
        { id: "big", type: "call_webhook", config: { url: `${SINK}/big/200000`, method: "GET" } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id, now);
    expect(exec.actions[0].error_output.error_code).toBe("TIMEOUT_ERROR");
    expect(exec.actions[1].outputs.truncated).toBe(true);
    const run = await call("GET", `/v1/automation/runs/${id}`);
    expect(run.body.truncated).toBe(true);
    expect(run.body.action_results[1].response.bytes).toBe(200000);
  });
});
