import { runDurableObjectAlarm } from "cloudflare:test";
import type { ExecutionState } from "../../src/engine/execution/types";
import { isFinal } from "../../src/engine/execution/types";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import { executionStub, getExecution, setClock } from "../support/engine";

/** The execution's state as its object holds it (times in ms, fields the API view leaves out). */
export async function stateOf(id: string): Promise<ExecutionState> {
  const snap = (await executionStub(id).snapshot()) as unknown as ExecutionSnapshot | null;
  if (!snap) throw new Error(`execution ${id} has no state`);
  return snap.state;
}

/**
 * Like test/support/engine.ts `drive`, but also safe against the platform firing the first alarm by
 * itself (start() arms it for the current real time) while the test fires it too: when an attempt is in
 * flight, or the execution is still pending, another invocation is working, so this polls until that
 * invocation is done. Recorded fixtures must not depend on which of the two ran first, so scenarios
 * read due times from the state (`at`) rather than assuming a clock of their own.
 */
export async function settle(id: string, at?: number): Promise<any> {
  const stub = executionStub(id);
  for (let i = 0; i < 500; i++) {
    if (at !== undefined) await setClock(id, at);
    await runDurableObjectAlarm(stub);
    const state = await stateOf(id);
    if (state.status === "pending" || state.actions.some((a) => a.in_flight)) {
      // Another invocation is running this execution: let it finish (concurrency, not time, is awaited).
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    if (isFinal(state.status) || state.status === "paused") break;
    const next = await stub.nextWakeAt();
    if (next === null || next > (at ?? Date.now())) break;
  }
  return getExecution(id);
}
