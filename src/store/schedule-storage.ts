/**
 * The SQLite storage of one FlowScheduleObject: `schedule_target` (one row: org_id, and the flow its triggers start,
 * or the agent whose schedule it is) and `schedule_triggers` (trigger_id; a `cron` with its `timezone`, or an
 * `interval_ms` on the grid from `anchor_ms`; `catch_up`, `paused`; next_fire_at ms, last_fired_at ms,
 * last_event_id). Tables are created on first write, so a cleared object keeps nothing, not even empty tables.
 */

import { migrateStorage, storageVersion, type ObjectMigrations } from "./object-schema";

export interface ScheduleTriggerRow extends Record<string, SqlStorageValue> {
  trigger_id: string;
  cron: string | null;
  timezone: string | null;
  interval_ms: number | null;
  anchor_ms: number | null;
  catch_up: string;
  paused: number;
  next_fire_at: number | null;
  last_fired_at: number | null;
  last_event_id: string | null;
}

/** What the object's triggers start: a flow's executions, or an agent's runs (an agent is a flow plus its config). */
export interface ScheduleTarget {
  org_id: string;
  flow_id: string | null;
  agent_id: string | null;
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
  // 3: one scheduler: every trigger has a cron or an interval, a catch-up policy and a pause flag; an agent's schedule
  // is its object's one trigger (`agent`), and the object's target names the flow or the agent.
  [
    `CREATE TABLE schedule_triggers_3 (
       trigger_id TEXT PRIMARY KEY, cron TEXT, timezone TEXT, interval_ms INTEGER, anchor_ms INTEGER,
       catch_up TEXT NOT NULL DEFAULT 'none', paused INTEGER NOT NULL DEFAULT 0,
       next_fire_at INTEGER, last_fired_at INTEGER, last_event_id TEXT)`,
    `INSERT INTO schedule_triggers_3 (trigger_id, cron, timezone, next_fire_at, last_fired_at, last_event_id)
       SELECT trigger_id, cron, timezone, next_fire_at, last_fired_at, last_event_id FROM schedule_triggers`,
    `INSERT INTO schedule_triggers_3 (trigger_id, cron, timezone, interval_ms, anchor_ms, catch_up, paused, next_fire_at, last_fired_at)
       SELECT 'agent', cron, timezone, interval_ms, anchor_ms, catch_up, paused, next_fire_at, last_fired_at FROM schedule_agent`,
    `DROP TABLE schedule_triggers`,
    `ALTER TABLE schedule_triggers_3 RENAME TO schedule_triggers`,
    `CREATE TABLE schedule_target (id INTEGER PRIMARY KEY CHECK (id = 1), org_id TEXT NOT NULL, flow_id TEXT, agent_id TEXT)`,
    `INSERT INTO schedule_target (id, org_id, flow_id) SELECT 1, org_id, flow_id FROM schedule_flow`,
    `INSERT OR REPLACE INTO schedule_target (id, org_id, agent_id) SELECT 1, org_id, agent_id FROM schedule_agent`,
    `DROP TABLE schedule_flow`,
    `DROP TABLE schedule_agent`,
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

  target(): ScheduleTarget | null {
    if (!this.hasTables()) return null;
    return (
      this.sql()
        .exec<ScheduleTarget & Record<string, SqlStorageValue>>("SELECT org_id, flow_id, agent_id FROM schedule_target")
        .toArray()[0] ?? null
    );
  }

  triggers(): ScheduleTriggerRow[] {
    if (!this.hasTables()) return [];
    return this.sql().exec<ScheduleTriggerRow>("SELECT * FROM schedule_triggers ORDER BY trigger_id").toArray();
  }

  /** Replaces the target and its whole trigger set (one synchronous storage transaction). */
  replace(target: ScheduleTarget, rows: ScheduleTriggerRow[]): void {
    const sql = this.sql();
    this.storage.transactionSync(() => {
      sql.exec("DELETE FROM schedule_triggers");
      sql.exec(
        "INSERT OR REPLACE INTO schedule_target (id, org_id, flow_id, agent_id) VALUES (1, ?, ?, ?)",
        target.org_id,
        target.flow_id,
        target.agent_id,
      );
      for (const r of rows) {
        sql.exec(
          `INSERT INTO schedule_triggers (trigger_id, cron, timezone, interval_ms, anchor_ms, catch_up, paused, next_fire_at,
             last_fired_at, last_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          r.trigger_id,
          r.cron,
          r.timezone,
          r.interval_ms,
          r.anchor_ms,
          r.catch_up,
          r.paused,
          r.next_fire_at,
          r.last_fired_at,
          r.last_event_id,
        );
      }
    });
  }

  /** Records a fire: the trigger's next instant, the last instant fired and its event id (null for an agent's runs). */
  markFired(triggerId: string, next: number | null, instant: number, eventId: string | null): void {
    this.sql().exec(
      "UPDATE schedule_triggers SET next_fire_at = ?, last_fired_at = ?, last_event_id = COALESCE(?, last_event_id) WHERE trigger_id = ?",
      next,
      instant,
      eventId,
      triggerId,
    );
  }

  /** Pauses (or resumes with `next` as its next fire) one trigger. */
  setPaused(triggerId: string, paused: boolean, next: number | null): void {
    this.sql().exec(
      "UPDATE schedule_triggers SET paused = ?, next_fire_at = ? WHERE trigger_id = ?",
      paused ? 1 : 0,
      next,
      triggerId,
    );
  }

  /** After storage.deleteAll(): the tables are gone and are created again by the next write. */
  forgetTables(): void {
    this.migrated = false;
  }
}
