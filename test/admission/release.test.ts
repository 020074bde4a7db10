import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import { releaseSlot } from "../../src/services/admission";
import { toFlowSnapshot } from "../../src/services/executions";
import { reconcileExecutions } from "../../src/services/reconcile";
import { reconcileAdmissions } from "../../src/services/reconcile-admission";
import { requestSlotStatement } from "../../src/store/admission";
import { getFlow } from "../../src/store/flows";
import { call } from "../helpers";
import { executionStub, getExecution } from "../support/engine";
import { finish, hasObject, holders, limitedFlow, queueOf, waiting } from "./support";

vi.setConfig({ testTimeout: 60_000 });

/** Starts `count` executions of the flow through the API, one after the other (so admission order is known). */
async function startMany(flowId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await call("POST", "/v1/automation/executions", { body: { flow_id: flowId, entity_id: `r${i}` } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}

const flowStats = async (flowId: string) => (await call("GET", `/v1/automation/flows/${flowId}`)).body;

describe("releasing slots", () => {
  it("a cancelled waiting execution leaves the queue and never runs; a cancelled running one frees its slot", async () => {
    const flow = await limitedFlow(1);
    const [a, b, c] = await startMany(flow.id, 3);
    const cancelB = await call("DELETE", `/v1/automation/executions/${b}`);
    expect(cancelB.status, JSON.stringify(cancelB.body)).toBe(200);
    expect(cancelB.body.execution_status).toBe("cancelled");
    expect(waiting(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([c]);
    // Still readable, listed as cancelled and counted in the flow's statistics; never given an object.
    expect((await getExecution(b)).execution_status).toBe("cancelled");
    const listed = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`);
    expect(listed.body.results.find((r: any) => r.id === b).execution_status).toBe("cancelled");
    expect((await flowStats(flow.id)).runs).toBe(1);
    expect(await hasObject(b)).toBe(false);
    expect((await call("DELETE", `/v1/automation/executions/${b}`)).status).toBe(409);

    await executionStub(a).waitUntilSettled(10_000);
    const cancelA = await call("DELETE", `/v1/automation/executions/${a}`);
    expect(cancelA.body.execution_status).toBe("cancelled");
    // A's slot went to C, the next waiting one (not to B, which left the queue).
    expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([c]);
    await finish(c);
    expect(await hasObject(b)).toBe(false);
    // Only B's record stays (so GET answers), until the retention prunes it.
    expect(await queueOf(flow.id)).toEqual([expect.objectContaining({ execution_id: b, state: "cancelled" })]);
  });

  it("a replayed release starts nobody twice", async () => {
    const flow = await limitedFlow(1);
    const [a, b, c] = await startMany(flow.id, 3);
    await finish(a);
    expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([b]);
    const final = (await executionStub(a).snapshot()) as unknown as ExecutionSnapshot;
    await releaseSlot(env, final.state);
    await releaseSlot(env, final.state);
    const queue = await queueOf(flow.id);
    expect(holders(queue).map((r) => r.execution_id)).toEqual([b]);
    expect(waiting(queue).map((r) => r.execution_id)).toEqual([c]);
    expect(await hasObject(c)).toBe(false);
    await finish(b);
    await finish(c);
  });

  it("a raised limit lets more in at the next release", async () => {
    const flow = await limitedFlow(1);
    const [a, b, c] = await startMany(flow.id, 3);
    const put = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      body: { flow_name: flow.flow_name, triggers: flow.triggers, actions: flow.actions, concurrency_limit: 3 },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await finish(a);
    expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([b, c]);
    await finish(b);
    await finish(c);
  });
});

describe("the reconciliation repairs what a dead process left", () => {
  it("the stale-execution sweep leaves a long-waiting execution alone (it has no object by design)", async () => {
    const flow = await limitedFlow(1);
    const [a, b] = await startMany(flow.id, 2);
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await env.DB.prepare(`UPDATE executions SET updated_at = ? WHERE id = ?`).bind(old, b).run();
    const report = await reconcileExecutions(env, Date.now());
    expect(report.lost).not.toContain(b);
    expect((await getExecution(b)).execution_status).toBe("pending");
    await finish(a);
    await finish(b);
  });

  it("a finish that never released its slot, and a release that never promoted", async () => {
    const flow = await limitedFlow(1);
    const [a, b] = await startMany(flow.id, 2);
    // As if A's finish batch was written and the process died before the release.
    await env.DB.prepare(`UPDATE executions SET status = 'success' WHERE id = ?`).bind(a).run();
    const report = await reconcileAdmissions(env, Date.now());
    expect(report).toMatchObject({ released: 1, promoted: [b], errors: [] });
    expect(await hasObject(b)).toBe(true);
    expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([b]);
    // Idempotent: a second run finds nothing to do for this flow.
    const again = await reconcileAdmissions(env, Date.now());
    expect(again.promoted).not.toContain(b);
    await finish(b);
  });

  it("an admitted execution whose start never reached its object is started", async () => {
    const flow = await limitedFlow(2);
    const [a] = await startMany(flow.id, 1);
    // As if a starter took a slot for X and died before starting X's object.
    const x = crypto.randomUUID();
    const snapshot = { ...toFlowSnapshot((await getFlow(env.DB, "org-a", flow.id))!), concurrency_limit: 2 };
    const input = { id: x, org_id: "org-a", flow: snapshot, entity_id: "", entity: null, trigger_event: { type: "manual" } };
    await env.DB.batch([requestSlotStatement(env.DB, input, 2, Date.now())]);
    expect(holders(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([a, x]);
    // Not before its grace: a start under way is left to its starter.
    expect((await reconcileAdmissions(env, Date.now())).restarted).not.toContain(x);
    expect(await hasObject(x)).toBe(false);
    const report = await reconcileAdmissions(env, Date.now() + 120_000);
    expect(report.restarted).toEqual([x]);
    expect(await hasObject(x)).toBe(true);
    expect((await queueOf(flow.id)).find((r) => r.execution_id === x)?.state).toBe("running");
    await finish(a);
    await finish(x);
    expect(await queueOf(flow.id)).toEqual([]);
  });

  it("a cancel of a waiting execution that died before its summary is completed, and old cancels are pruned", async () => {
    const flow = await limitedFlow(1);
    const [a, b] = await startMany(flow.id, 2);
    await env.DB.prepare(
      `UPDATE admission_queue SET state = 'cancelled', ended_at = ?, cancel_reason = 'x' WHERE execution_id = ?`,
    )
      .bind(Date.now(), b)
      .run();
    expect((await getExecution(b)).execution_status).toBe("cancelled");
    const report = await reconcileAdmissions(env, Date.now());
    expect(report.cancels_settled).toEqual([b]);
    const row = await env.DB.prepare(`SELECT status FROM executions WHERE id = ?`).bind(b).first<{ status: string }>();
    expect(row!.status).toBe("cancelled");
    const later = await reconcileAdmissions(env, Date.now() + 31 * 86_400_000);
    expect(later.pruned).toBeGreaterThanOrEqual(1);
    expect(waiting(await queueOf(flow.id))).toEqual([]);
    expect((await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([a]);
    await finish(a);
  });
});
