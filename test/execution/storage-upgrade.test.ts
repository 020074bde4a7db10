import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { STORAGE_VERSION } from "../../src/store/execution-storage";
import { STATE_VERSION } from "../../src/engine/execution/types";
import { executionStub, setClock, sinkRequests, sinkReset } from "../support/engine";
import { CURRENT_LAYOUT, LEGACY_VERSION, MIGRATIONS } from "../../src/store/execution-migrations";
import { migrateStorage } from "../../src/store/object-schema";
import v1 from "../fixtures/storage/v1-scheduled-delay.json";

beforeEach(sinkReset);

type Row = Record<string, string | number | null>;

/** The version-1 layout exactly as it shipped (kv, events, attempts, timers; no schema_version row). */
const V1_SCHEMA = [
  `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
  `CREATE TABLE attempts (action_id TEXT NOT NULL, iteration INTEGER NOT NULL, attempt INTEGER NOT NULL,
     started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, outcome TEXT NOT NULL, request TEXT, response TEXT, error TEXT,
     PRIMARY KEY (action_id, iteration, attempt))`,
  `CREATE TABLE timers (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL)`,
];

/** Writes the fixture's rows into a fresh object, as a version-1 engine left them, with its alarm armed. */
async function plantV1(id: string): Promise<void> {
  await runInDurableObject(executionStub(id), async (_o: ExecutionObject, ctx) => {
    const sql = ctx.storage.sql;
    for (const stmt of V1_SCHEMA) sql.exec(stmt);
    for (const [table, rows] of Object.entries(v1.tables as Record<string, Row[]>)) {
      for (const row of rows) {
        const cols = Object.keys(row);
        sql.exec(
          `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
          ...cols.map((c) => row[c]),
        );
      }
    }
    await ctx.storage.setAlarm(Date.now() + 60_000);
  });
}

describe("versioned execution storage", () => {
  it("opens storage written in the version-1 layout, migrates it and finishes that run", async () => {
    const id = v1.id;
    await plantV1(id);
    // Past the delay the run was waiting for (its wake timer in the fixture).
    const wakeAt = (v1.tables.timers as { due_at: number }[])[0].due_at;
    await setClock(id, wakeAt + 1000);
    await runDurableObjectAlarm(executionStub(id));
    for (let i = 0; i < 5 && (await executionStub(id).waitUntilSettled(0)) !== "success"; i++) {
      await runDurableObjectAlarm(executionStub(id));
    }

    const snap = (await executionStub(id).snapshot()) as any;
    expect(snap.state.status).toBe("success");
    expect(snap.state.v).toBe(STATE_VERSION);
    expect(snap.state.actions.map((a: any) => a.execution_status)).toEqual(["success", "success", "success", "success"]);
    // The last action's template read the first action's outputs, which the upcast moved into a row.
    const [last] = await sinkRequests("/v1/last");
    expect(JSON.parse(last.body)).toEqual({ first: 200 });
    // Loop iterations and their outputs moved out of the state value into rows.
    expect(snap.detail.iterations.a2.map((it: any) => it.execution_status)).toEqual(["success", "success"]);
    expect(snap.detail.iterations.a2[0].outputs.body.received).toEqual({ item: "x" });
    expect(snap.state.actions[1]).not.toHaveProperty("iterations");
    expect(snap.state.actions[1]).not.toHaveProperty("attempt_log");
    expect(snap.state.actions[1].attempts_total).toBe(2);

    const layout = await runInDurableObject(executionStub(id), (_o: ExecutionObject, ctx) => ({
      version: ctx.storage.sql.exec<{ version: number }>(`SELECT version FROM schema_version`).one().version,
      stateRow: JSON.parse(ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM kv WHERE key = 'state'`).one().value),
    }));
    expect(layout.version).toBe(STORAGE_VERSION);
    expect(layout.stateRow.v).toBe(STATE_VERSION);
    expect(layout.stateRow).not.toHaveProperty("entity");
    // The version-1 timers became kv rows, and their table is gone.
    const tables = await runInDurableObject(executionStub(id), (_o: ExecutionObject, ctx) =>
      ctx.storage.sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE name = 'timers'`).toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("a new object's layout (CURRENT_LAYOUT, one call) is the one the migrations lead to, column for column", async () => {
    const describe = (sql: SqlStorage) =>
      sql
        .exec<{ name: string; type: string }>(
          `SELECT name, type FROM sqlite_master WHERE name NOT LIKE '_cf_%' AND name <> 'sqlite_sequence' ORDER BY name`,
        )
        .toArray()
        .map((t) => ({
          ...t,
          columns: sql.exec(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, t.name).toArray(),
          indexes: sql.exec(`SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name`, t.name).toArray(),
        }));
    const layoutOf = (history: boolean) =>
      runInDurableObject(executionStub(crypto.randomUUID()), (_o: ExecutionObject, ctx) => {
        migrateStorage(ctx.storage, MIGRATIONS, LEGACY_VERSION, { knownFrom: 0, layout: history ? undefined : CURRENT_LAYOUT });
        return describe(ctx.storage.sql);
      });
    const migrated = await layoutOf(true);
    expect(migrated.map((t) => t.name)).toContain("attempts");
    expect(migrated.map((t) => t.name)).not.toContain("timers");
    expect(migrated.find((t) => t.name === "attempts")?.columns.map((c) => c.name)).toContain("effects");
    expect(await layoutOf(false)).toEqual(migrated);
  });

  it("a new execution is created at the current storage version", async () => {
    const id = crypto.randomUUID();
    await runInDurableObject(executionStub(id), async (o: ExecutionObject) => {
      await o.start({
        id,
        org_id: "org-a",
        entity_id: "",
        entity: null,
        trigger_event: { type: "manual" },
        flow: { id: "f", flow_name: "f", version: 1, actions: [] },
      });
    });
    const version = await runInDurableObject(
      executionStub(id),
      (_o: ExecutionObject, ctx) => ctx.storage.sql.exec<{ version: number }>(`SELECT version FROM schema_version`).one().version,
    );
    expect(version).toBe(STORAGE_VERSION);
    const log = (await executionStub(id).eventLog()) as any[];
    expect(log[0]).toMatchObject({ type: "created", data: { type: "created", input: { id, org_id: "org-a" } } });
  });
});
