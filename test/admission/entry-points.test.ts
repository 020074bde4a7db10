import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { processBulkMessage } from "../../src/queues/bulk";
import { processEvent } from "../../src/queues/events";
import type { EntityOperationEvent, TriggerEvent } from "../../src/schemas/events";
import { bulkMessage } from "../../src/services/bulk-jobs";
import { call } from "../helpers";
import { approve, capturingEnv, createJob, jobRow, seedRecords, uniqueSchema } from "../bulk/support";
import { createFlow, drive, getExecution } from "../support/engine";
import { HOLD, finish, hasObject, holders, limitedFlow, queueOf, waiting } from "./support";

vi.setConfig({ testTimeout: 60_000 });

/**
 * Issue 13 item 7: one admission path. Each way an execution starts asks services/admission.ts, and each
 * keeps its own way of saying no: a 409 for API callers, a skip with a reason for events, a failed item
 * for bulk jobs, a failed action for trigger-workflow.
 */

let n = 0;
function entityEvent(schema: string, over: Partial<EntityOperationEvent> = {}): EntityOperationEvent {
  n++;
  return {
    id: `adm-evt-${n}-${Math.random()}`,
    org_id: "org-a",
    at: new Date().toISOString(),
    depth: 0,
    type: "entity_operation",
    operation: "updateEntity",
    schema,
    entity_id: `${schema}-${n}`,
    entity: { _id: `${schema}-${n}`, _schema: schema, stage: "won" },
    diff: { added: {}, updated: { stage: "won" }, deleted: {} },
    previous: { stage: "open" },
    ...over,
  };
}

function scheduleEvent(flowId: string, over: Record<string, unknown> = {}): TriggerEvent {
  n++;
  return {
    id: `adm-cron-${n}-${Math.random()}`,
    org_id: "org-a",
    at: new Date().toISOString(),
    depth: 0,
    type: "schedule",
    flow_id: flowId,
    trigger_id: "cron",
    scheduled_at: new Date().toISOString(),
    ...over,
  } as TriggerEvent;
}

const cronTrigger = [{ id: "cron", type: "schedule", configuration: { cron: "0 9 * * *" } }];

async function disabledFlow(extra: Record<string, unknown> = {}): Promise<any> {
  return createFlow({ flow_name: "off", enabled: false, actions: HOLD, ...extra });
}

describe("a disabled flow is refused on every path", () => {
  it("API start, manual trigger and single-action run: 409 FLOW_DISABLED, nothing created", async () => {
    const flow = await disabledFlow();
    const paths: [string, unknown][] = [
      ["/v1/automation/executions", { flow_id: flow.id, entity_id: "x" }],
      [`/v1/automation/flows/${flow.id}/trigger`, {}],
      [`/v1/automation/flows/${flow.id}/actions/hold/execute`, {}],
    ];
    for (const [path, body] of paths) {
      const res = await call("POST", path, { body });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 409, code: "FLOW_DISABLED" });
    }
    const list = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`);
    expect(list.body.total).toBe(0);
  });

  it("events (a cron fire): skipped with the reason; a chain too deep skips every flow", async () => {
    const flow = await disabledFlow({ triggers: cronTrigger });
    expect(await processEvent(env, scheduleEvent(flow.id))).toMatchObject({
      started: [],
      skipped: [{ flow_id: flow.id, reason: "flow disabled" }],
    });
    const on = await createFlow({ flow_name: "on", triggers: cronTrigger, actions: HOLD });
    expect(await processEvent(env, scheduleEvent(on.id, { depth: 11 }))).toMatchObject({
      started: [],
      skipped: [{ flow_id: "*", reason: "chain depth 11 exceeds 10" }],
    });
  });

  it("bulk: a job of a disabled flow is refused (409), and a flow disabled after approval fails the items", async () => {
    const off = await disabledFlow();
    const refused = await call("POST", "/v1/automation/executions/bulk-jobs", {
      body: { flow_id: off.id, entities_query: "_schema:nothing" },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "FLOW_DISABLED", details: [{ path: "flow_id" }] });

    const schema = uniqueSchema("adm-bulk");
    const ids = await seedRecords(schema, 2);
    const flow = await createFlow({ flow_name: "bulk-off", actions: HOLD });
    const { job, token } = await createJob({
      flow_id: flow.id,
      entities_refs: ids.map((entity_id) => ({ entity_id, entity_schema: schema })),
    });
    await approve(job.job_id, token);
    const jobId = job.job_id;
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(200);
    const { env: qenv } = capturingEnv();
    await processBulkMessage(qenv, bulkMessage({ type: "load", org_id: "org-a", job_id: jobId, page: 0 }));
    await processBulkMessage(qenv, bulkMessage({ type: "execute", org_id: "org-a", job_id: jobId, page: 0 }));
    const items = await env.DB.prepare(`SELECT execution_status, error FROM bulk_job_items WHERE job_id = ?`)
      .bind(jobId)
      .all<{ execution_status: string; error: string }>();
    expect(items.results).toEqual(
      ids.map(() => ({ execution_status: "failed", error: `Flow ${flow.id} is disabled; enable it to run it` })),
    );
  });

  it("trigger-workflow: the action fails with the refusal", async () => {
    const target = await disabledFlow();
    const parent = await createFlow({
      flow_name: "parent",
      actions: [{ id: "child", type: "trigger-workflow", config: { target_workflow: target.id } }],
    });
    const started = await call("POST", "/v1/automation/executions", { body: { flow_id: parent.id, entity_id: "x" } });
    const exec = await drive(started.body.id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({
      error_code: "TRIGGER_WORKFLOW_ERROR",
      error_reason: `Flow ${target.id} is disabled; enable it to run it`,
    });
  });
});

describe("concurrency_limit holds on every path: the second start waits, then runs", () => {
  /** The first holds the flow's one slot, the second waits; finishing the first starts the second. */
  async function expectSecondWaits(flowId: string, first: string, second: string): Promise<void> {
    const queue = await queueOf(flowId);
    expect(holders(queue).map((r) => r.execution_id)).toEqual([first]);
    expect(waiting(queue).map((r) => r.execution_id)).toEqual([second]);
    expect(await hasObject(second)).toBe(false);
    expect((await getExecution(second)).execution_status).toBe("pending");
    await finish(first);
    expect(holders(await queueOf(flowId)).map((r) => r.execution_id)).toEqual([second]);
    await finish(second);
    expect(await queueOf(flowId)).toEqual([]);
  }

  it("events (record changes)", async () => {
    const schema = uniqueSchema("adm-ev");
    const flow = await limitedFlow(1, {
      triggers: [{ type: "field.changed", configuration: { module: schema, field: "stage" } }],
    });
    const a = await processEvent(env, entityEvent(schema));
    const b = await processEvent(env, entityEvent(schema));
    expect([a.started.length, b.started.length]).toEqual([1, 1]);
    await expectSecondWaits(flow.id, a.started[0], b.started[0]);
  });

  it("schedules (cron fires): an overlapping fire waits instead of being dropped", async () => {
    const flow = await limitedFlow(1, { triggers: cronTrigger });
    const a = await processEvent(env, scheduleEvent(flow.id));
    const b = await processEvent(env, scheduleEvent(flow.id));
    await expectSecondWaits(flow.id, a.started[0], b.started[0]);
  });

  it("manual trigger and single-action run answer `running` for a waiting execution", async () => {
    const flow = await limitedFlow(1);
    const first = await call("POST", `/v1/automation/flows/${flow.id}/trigger`, { body: {} });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const second = await call("POST", `/v1/automation/flows/${flow.id}/actions/hold/execute`, { body: {} });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body).toMatchObject({ status: "running", execution_status: "pending" });
    const run = await call("GET", `/v1/automation/runs/${second.body.run_id}`);
    expect(run.body).toMatchObject({ run_id: second.body.run_id, status: "running" });
    await expectSecondWaits(flow.id, first.body.run_id, second.body.run_id);
  });

  it("trigger-workflow: the child waits; the parent's action succeeds with its id", async () => {
    const target = await limitedFlow(1);
    const parent = await createFlow({
      flow_name: "parent",
      actions: [{ id: "child", type: "trigger-workflow", config: { target_workflow: target.id } }],
    });
    const children: string[] = [];
    for (let i = 0; i < 2; i++) {
      const started = await call("POST", "/v1/automation/executions", { body: { flow_id: parent.id, entity_id: `p${i}` } });
      const exec = await drive(started.body.id);
      expect(exec.execution_status).toBe("success");
      children.push(exec.actions[0].outputs.execution_id);
    }
    await expectSecondWaits(target.id, children[0], children[1]);
  });

  it("bulk: the job's executions take the slots in turn, and the job ends", async () => {
    const schema = uniqueSchema("adm-bulk-limit");
    const ids = await seedRecords(schema, 3);
    const flow = await limitedFlow(1);
    const { job, token } = await createJob({
      flow_id: flow.id,
      entities_refs: ids.map((entity_id) => ({ entity_id, entity_schema: schema })),
    });
    const jobId = job.job_id;
    await approve(jobId, token);
    const { env: qenv } = capturingEnv();
    await processBulkMessage(qenv, bulkMessage({ type: "load", org_id: "org-a", job_id: jobId, page: 0 }));
    await processBulkMessage(qenv, bulkMessage({ type: "execute", org_id: "org-a", job_id: jobId, page: 0 }));
    const queue = await queueOf(flow.id);
    expect([holders(queue).length, waiting(queue).length]).toEqual([1, 2]);
    for (const row of queue) {
      expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([row.execution_id]);
      await finish(row.execution_id);
    }
    const done = await jobRow(jobId);
    expect(["send_report", "finished"]).toContain(done.status);
    const items = await env.DB.prepare(`SELECT execution_status FROM bulk_job_items WHERE job_id = ?`).bind(jobId).all();
    expect(items.results).toEqual(ids.map(() => ({ execution_status: "success" })));
  });
});
