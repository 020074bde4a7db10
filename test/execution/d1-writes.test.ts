import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { startExecution } from "../../src/services/executions";
import { getFlow } from "../../src/store/flows";
import { SINK, createFlow, drive, executionStub } from "../support/engine";
import { countingDb } from "../support/d1-count";

async function statementsFor(actions: number): Promise<{ statements: number; batches: number }> {
  const created = await createFlow({
    flow_name: `d1-${actions}`,
    actions: Array.from({ length: actions }, (_, i) => ({
      id: `a${i}`,
      type: "call_webhook",
      config: { url: `${SINK}/d1/${i}` },
    })),
  });
  const flow = (await getFlow(env.DB, "org-a", created.id))!;
  const id = crypto.randomUUID();
  const counter = { statements: 0, batches: 0 };
  await runInDurableObject(executionStub(id), (o: ExecutionObject) => {
    const self = o as unknown as { env: typeof env };
    self.env = { ...self.env, DB: countingDb(self.env.DB, counter) };
  });
  await startExecution(env, { orgId: "org-a", flow, triggerEvent: { type: "manual" }, executionId: id, entity: null });
  // A fixed engine clock: on a loaded machine a real one could pass SUMMARY_DEFER_MS between the actions.
  const exec = await drive(id, Date.now());
  expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => [a.execution_status, a.error_output]))).toBe(
    "success",
  );
  return counter;
}

describe("D1 is the index, not the detail", () => {
  it("writes the same handful of statements whether the flow has 2 or 20 actions", async () => {
    const small = await statementsFor(2);
    const large = await statementsFor(20);
    // start (the pending row); finished (flow statistics, then the summary row marked as counted). The
    // "started" status change of a short run folds into the finish (ExecutionObject.flushIfStale). Was 7 in 3.
    expect(small).toEqual({ statements: 3, batches: 2 });
    expect(large).toEqual(small);
  });
});
