import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { startExecution } from "../../src/services/executions";
import { getFlow } from "../../src/store/flows";
import { SINK, createFlow, drive, executionStub } from "../support/engine";

/** Wraps a D1 binding so every statement it executes (alone or in a batch) is counted. */
function countingDb(db: D1Database, counter: { statements: number; batches: number }): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrapStmt = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "bind")
          return (...args: unknown[]) => wrapStmt((value as (...a: unknown[]) => D1PreparedStatement).apply(target, args));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => {
            counter.statements++;
            counter.batches++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") return (sql: string) => wrapStmt(target.prepare(sql));
      if (prop === "batch")
        return (stmts: D1PreparedStatement[]) => {
          counter.statements += stmts.length;
          counter.batches++;
          return target.batch(stmts.map((s) => real.get(s) ?? s));
        };
      return Reflect.get(target, prop, receiver);
    },
  });
}

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
  const exec = await drive(id);
  expect(exec.execution_status, JSON.stringify(exec.actions.map((a: any) => [a.execution_status, a.error_output]))).toBe(
    "success",
  );
  return counter;
}

describe("D1 is the index, not the detail", () => {
  it("writes the same handful of statements whether the flow has 2 or 20 actions", async () => {
    const small = await statementsFor(2);
    const large = await statementsFor(20);
    // start (pending row), started (in_progress row), finished (summary + flow statistics + circuit breaker).
    expect(small).toEqual({ statements: 7, batches: 3 });
    expect(large).toEqual(small);
  });
});
