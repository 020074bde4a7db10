import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { startExecution } from "../../src/services/executions";
import { STORAGE_VERSION } from "../../src/store/execution-storage";
import { getFlow } from "../../src/store/flows";
import { SINK, createFlow, executionStub, sinkReset } from "../support/engine";

/**
 * What one simple execution asks of its object's SQLite. Every `sql.exec` is native work and, in Workers
 * traces (and wrangler dev's local collector), a span of its own: a new object's layout goes in one call,
 * and a commit writes all the kv rows it touched in one statement. Pins the count, like d1-writes pins D1's.
 */

beforeEach(sinkReset);

/** A fresh execution id whose object runs inline (as in production), every storage call recorded. */
async function recordCalls(id: string): Promise<string[]> {
  const calls: string[] = [];
  await runInDurableObject(executionStub(id), (o: ExecutionObject, state: DurableObjectState) => {
    const self = o as unknown as { env: typeof env };
    self.env = { ...self.env, EXECUTION_INLINE_START: "1" };
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    (sql as { exec: unknown }).exec = (query: string, ...bindings: SqlStorageValue[]) => {
      calls.push(query.replace(/\s+/g, " ").trim());
      return exec(query, ...bindings);
    };
    const storage = state.storage;
    const transactionSync = storage.transactionSync.bind(storage);
    (storage as { transactionSync: unknown }).transactionSync = <T>(fn: () => T): T => {
      calls.push("transactionSync");
      return transactionSync(fn);
    };
  });
  return calls;
}

describe("storage calls of one execution", () => {
  it("a two-action run: the layout in one call, each commit's kv rows (timers included) in one statement, 15 calls in all", async () => {
    const flow = await createFlow({
      flow_name: "storage calls",
      actions: ["one", "two"].map((a) => ({ id: a, type: "call_webhook", config: { url: `${SINK}/calls/${a}` } })),
    });
    const id = crypto.randomUUID();
    const all = await recordCalls(id);
    const f = (await getFlow(env.DB, "org-a", flow.id))!;
    await startExecution(env, { orgId: "org-a", flow: f, triggerEvent: { type: "manual" }, executionId: id, entity: null });
    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    const calls = all.filter((q) => q !== "transactionSync");

    const ddl = calls.filter((q) => q.includes("CREATE TABLE"));
    expect(ddl).toHaveLength(1); // every table and the version row, one call
    // Creation writes flow, input, state, outbox and the wake-up timer together.
    expect(calls.find((q) => q.startsWith("INSERT INTO kv"))).toMatch(
      /VALUES \(\?, \?\), \(\?, \?\), \(\?, \?\), \(\?, \?\), \(\?, \?\) ON CONFLICT/,
    );
    // 38 before the layout and the kv rows were batched, 22 before issue 29: the timers are kv rows, a removed
    // kv row is written as null in the same upsert, a run is committed as dispatched with the step that plans
    // it, and a new object is found empty once.
    expect(calls).toHaveLength(15);
    expect(calls.filter((q) => q.includes("sqlite_master"))).toHaveLength(1);
    expect(calls.filter((q) => q.startsWith("DELETE"))).toEqual(["DELETE FROM kv WHERE key = ?"]); // the outbox, after D1
    // Per action: the commit before the call (state and pending run, dispatched) and the three after it.
    expect(calls.filter((q) => q.startsWith("INSERT INTO attempts"))).toHaveLength(2);
    expect(calls.filter((q) => q.startsWith("INSERT INTO events"))).toHaveLength(4);
    // One transaction per commit: the creation (with the layout), the first step, each result.
    expect(all.filter((q) => q === "transactionSync")).toHaveLength(4);
    expect(all.indexOf("transactionSync")).toBe(all.findIndex((q) => q.includes("CREATE TABLE")) - 1);
    // The version row went in with the layout (the one parameter of that call).
    const version = await runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) =>
      state.storage.sql.exec<{ version: number }>(`SELECT version FROM schema_version`).one(),
    );
    expect(version).toEqual({ version: STORAGE_VERSION });

    // Everything it wrote reads back: the run's detail (attempts, outputs) and its event log.
    const snap = (await executionStub(id).snapshot()) as unknown as ExecutionSnapshot | null;
    expect(snap?.state.actions.map((a) => a.execution_status)).toEqual(["success", "success"]);
    expect(Object.keys(snap?.detail.outputs ?? {}).sort()).toEqual(["one", "two"]);
    expect((await executionStub(id).eventLog()).map((e) => e.type)).toEqual([
      "created",
      "wake",
      "action_result",
      "action_result",
    ]);
  });
});
