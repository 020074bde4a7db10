/**
 * The SQLite storage of one FlowScheduleObject: `schedule_flow` (one row: org_id, flow_id) and
 * `schedule_triggers` (trigger_id, cron, timezone, next_fire_at ms, last_fired_at ms, last_event_id); an agent's
 * object has `schedule_agent` instead (one row: the agent's schedule, pause flag and next fire).
 * Tables are created on first write, so a cleared object keeps nothing, not even empty tables.
 */

import { migrateStorage, storageVersion, type ObjectMigrations } from "./object-schema";

export interface ScheduleTriggerRow extends Record<string, SqlStorageValue> {
  trigger_id: string;
  cron: string;
  timezone: string | null;
  next_fire_at: number | null;
  last_fired_at: number | null;
  last_event_id: string | null;
}

export interface AgentScheduleRow extends Record<string, SqlStorageValue> {
  org_id: string;
  agent_id: string;
  /** A cron schedule (with `timezone`), or an interval one (`interval_ms` on the grid from `anchor_ms`). */
  cron: string | null;
  timezone: string | null;
  interval_ms: number | null;
  anchor_ms: number | null;
  catch_up: string;
  paused: number;
  next_fire_at: number | null;
  last_fired_at: number | null;
}

/** Ordered migrations of a schedule object's storage (see object-schema.ts). */
const MIGRATIONS: ObjectMigrations = [
  // 1: one flow, its cron triggers and their next fire times.
  [
    `CREATE TABLE IF NOT EXISTS schedule_flow (id INTEGER PRIMARY KEY CHECK (id = 1), org_id TEXT NOT NULL, flow_id TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS schedule_triggers (
       trigger_id TEXT PRIMARY KEY, cron TEXT NOT NULL, timezone TEXT,
       next_fire_at INTEGER, last_fired_at INTEGER, last_event_id TEXT)`,
  ],
  // 2: an agent's schedule (services/agents.ts): one row in an object named `agent:<agent_id>`, which has no flow rows.
  [
    `CREATE TABLE IF NOT EXISTS schedule_agent (id INTEGER PRIMARY KEY CHECK (id = 1), org_id TEXT NOT NULL,
       agent_id TEXT NOT NULL, cron TEXT, timezone TEXT, interval_ms INTEGER, anchor_ms INTEGER,
       catch_up TEXT NOT NULL, paused INTEGER NOT NULL, next_fire_at INTEGER, last_fired_at INTEGER)`,
  ],
];
/** Storage from before schema versions: version 1 if it has the first layout's tables. */
const LEGACY_VERSION = (has: (table: string) => boolean): number => (has("schedule_triggers") ? 1 : 0);

export class ScheduleStorage {
  private migrated = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  private sql(): SqlStorage {
    const sql = this.storage.sql;
    if (!this.migrated) {
      migrateStorage(this.storage, MIGRATIONS, LEGACY_VERSION);
      this.migrated = true;
    }
    return sql;
  }

  /** Reads never create the tables: an object that was never written (or was wiped) stays empty. */
  private hasTables(): boolean {
    if (!this.migrated && storageVersion(this.storage.sql, LEGACY_VERSION) > 0) {
      // Existing storage (of any version) is brought up to date on first touch.
      migrateStorage(this.storage, MIGRATIONS, LEGACY_VERSION);
      this.migrated = true;
    }
    return this.migrated;
  }

  meta(): { org_id: string; flow_id: string } | null {
    if (!this.hasTables()) return null;
    const rows = this.sql().exec<{ org_id: string; flow_id: string }>("SELECT org_id, flow_id FROM schedule_flow").toArray();
    return rows[0] ?? null;
  }

  triggers(): ScheduleTriggerRow[] {
    if (!this.hasTables()) return [];
    return this.sql().exec<ScheduleTriggerRow>("SELECT * FROM schedule_triggers ORDER BY trigger_id").toArray();
  }

  /** Replaces the flow and its whole trigger set (one synchronous storage transaction). */
  replace(orgId: string, flowId: string, rows: ScheduleTriggerRow[]): void {
    const sql = this.sql();
    this.storage.transactionSync(() => {
      sql.exec("DELETE FROM schedule_triggers");
      sql.exec("INSERT OR REPLACE INTO schedule_flow (id, org_id, flow_id) VALUES (1, ?, ?)", orgId, flowId);
      for (const r of rows) {
        sql.exec(
          "INSERT INTO schedule_triggers (trigger_id, cron, timezone, next_fire_at, last_fired_at, last_event_id) VALUES (?, ?, ?, ?, ?, ?)",
          r.trigger_id,
          r.cron,
          r.timezone,
          r.next_fire_at,
          r.last_fired_at,
          r.last_event_id,
        );
      }
    });
  }

  /** Records a fire: the trigger's next instant, the instant fired and its event id. */
  markFired(triggerId: string, next: number | null, instant: number, eventId: string): void {
    this.sql().exec(
      "UPDATE schedule_triggers SET next_fire_at = ?, last_fired_at = ?, last_event_id = ? WHERE trigger_id = ?",
      next,
      instant,
      eventId,
      triggerId,
    );
  }

  /** The agent schedule of an agent's object, or null (a flow's object, or an empty one). */
  agent(): AgentScheduleRow | null {
    if (!this.hasTables()) return null;
    return this.sql().exec<AgentScheduleRow>("SELECT * FROM schedule_agent").toArray()[0] ?? null;
  }

  putAgent(r: AgentScheduleRow): void {
    this.sql().exec(
      `INSERT OR REPLACE INTO schedule_agent (id, org_id, agent_id, cron, timezone, interval_ms, anchor_ms, catch_up, paused,
         next_fire_at, last_fired_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.org_id,
      r.agent_id,
      r.cron,
      r.timezone,
      r.interval_ms,
      r.anchor_ms,
      r.catch_up,
      r.paused,
      r.next_fire_at,
      r.last_fired_at,
    );
  }

  /** After storage.deleteAll(): the tables are gone and are created again by the next write. */
  forgetTables(): void {
    this.migrated = false;
  }
}
