import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createExecution } from "../../src/engine/execution/create";
import type { Command, RunActionCommand } from "../../src/engine/execution/types";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { ExecutionStorage } from "../../src/store/execution-storage";
import { executionStub } from "../support/engine";

/** ExecutionStorage keeps its small rows in memory; a transaction that fails must not leave them ahead of SQLite. */
describe("ExecutionStorage memory mirrors", () => {
  it("a commit that throws mid-transaction rolls back and the mirrors read what SQLite kept", async () => {
    const stub = executionStub(crypto.randomUUID());
    await runInDurableObject(stub, (_o: ExecutionObject, ctx: DurableObjectState) => {
      const store = new ExecutionStorage(ctx.storage, 86_400_000);
      const flow = { id: "f", flow_name: "f", version: 1, actions: [{ id: "a", type: "call_webhook", config: {} }] };
      const { state, commands } = createExecution(
        { id: "e", org_id: "o", flow, entity_id: "", entity: null, trigger_event: { type: "manual" } } as never,
        1_000,
      );
      store.migrate();
      store.create(state, { type: "created", input: {} } as never, 1_000, commands);
      expect(store.timers()).toEqual([{ kind: "wake", due_at: 1_000 }]);
      expect(store.outbox()).toEqual({ finished: false });

      const run = {
        type: "run_action",
        action_id: "a",
        action_type: "call_webhook",
        attempt: 1,
        run: 1,
        config: {},
        idempotency_key: "k",
      };
      const circular: Record<string, unknown> = {};
      circular.self = circular; // JSON.stringify throws inside the transaction, after the timer and pending writes
      const bad: Command[] = [
        { type: "wake_at", at: 5_000 },
        { type: "store_output", action_id: "a", outputs: circular, truncated: false },
      ];
      expect(() => store.commit(state, { type: "wake" }, 2_000, run as RunActionCommand, bad, true)).toThrow();

      // Nothing of the failed commit is visible, through the mirrors or in SQLite.
      expect(store.pending()).toBeNull();
      expect(store.timers()).toEqual([{ kind: "wake", due_at: 1_000 }]);
      expect(store.earliestTimer()).toBe(1_000);
      expect(ctx.storage.sql.exec(`SELECT key, value FROM kv WHERE key LIKE 'timer:%'`).toArray()).toEqual([
        { key: "timer:wake", value: "1000" },
      ]);
      expect(ctx.storage.sql.exec(`SELECT key FROM kv WHERE key = 'pending'`).toArray()).toEqual([]);

      // A good commit afterwards is mirrored again.
      store.commit(state, { type: "wake" }, 2_000, run as RunActionCommand, [{ type: "wake_at", at: 6_000 }], true);
      expect(store.pending()?.command.action_id).toBe("a");
      expect(store.timers()).toEqual([{ kind: "wake", due_at: 6_000 }]);
    });
  });

  it("kv rows written inside a transaction reach SQLite once it ends, in one statement, nested transactions included", async () => {
    const stub = executionStub(crypto.randomUUID());
    await runInDurableObject(stub, (_o: ExecutionObject, ctx: DurableObjectState) => {
      const store = new ExecutionStorage(ctx.storage, 86_400_000);
      store.migrate();
      const inner = store as unknown as {
        transaction(fn: () => void): void;
        put(k: string, v: unknown): void;
        delete(k: string): void;
      };
      inner.put("outbox", { finished: false });
      const writes: string[] = [];
      const sql = ctx.storage.sql;
      const exec = sql.exec.bind(sql);
      (sql as { exec: unknown }).exec = (query: string, ...bindings: SqlStorageValue[]) => {
        writes.push(query.replace(/\s+/g, " ").trim());
        return exec(query, ...bindings);
      };
      inner.transaction(() => {
        inner.put("a", 1);
        inner.transaction(() => inner.put("b", { x: 2 }));
        inner.put("a", 3); // the last write of a key wins
        inner.delete("outbox");
        // Nothing reached SQLite yet; the buffered values read back.
        expect(writes).toEqual([]);
        expect(store.outbox()).toBeNull();
      });
      // One upsert of a and b and of the outbox removed (JSON null: read as no row).
      expect(writes).toHaveLength(1);
      (sql as { exec: unknown }).exec = exec;
      const rows = sql.exec<{ key: string; value: string }>(`SELECT key, value FROM kv ORDER BY key`).toArray();
      expect(rows).toEqual([
        { key: "a", value: "3" },
        { key: "b", value: '{"x":2}' },
        { key: "outbox", value: "null" },
      ]);
      expect(store.outbox()).toBeNull();
      // A fresh instance reads the same from SQLite (no mirror).
      expect(new ExecutionStorage(ctx.storage, 86_400_000).outbox()).toBeNull();
    });
  });
});
