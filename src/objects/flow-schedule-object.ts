import { DurableObject } from "cloudflare:workers";
import { dueFire, earliestFire, nextFireAfter, sameTriggerSet, scheduleEventId, scheduleTriggersOf } from "../engine/cron";
import type { ScheduleTriggerSpec } from "../engine/cron";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { TriggerEvent } from "../schemas/events";
import { ScheduleStorage, type ScheduleTriggerRow } from "../store/schedule-storage";
import { getFlowScheduleState } from "../store/schedules";
import { enqueueEvent } from "../services/event-queue";
import type { AgentScheduleInput, AgentScheduleStatus } from "../engine/agent-schedule";
import { AgentScheduler, type AgentAlarmOutcome } from "./agent-schedule";
import type { ExpectedSchedule, FlowScheduleObjectRpc, ScheduleStatus } from "../contracts/flow-schedule-object";

export type ScheduleEvent = Extract<TriggerEvent, { type: "schedule" }>;

/** What one alarm invocation did (kept in memory for tests and logs). */
export interface AlarmOutcome {
  fired: { trigger_id: string; event_id: string; scheduled_at: string; skipped: number }[];
  cleared?: "flow deleted" | "flow disabled" | "no schedule triggers";
  resynced?: boolean;
}

const specOf = (r: ScheduleTriggerRow): ScheduleTriggerSpec => ({
  trigger_id: r.trigger_id,
  cron: r.cron,
  ...(r.timezone !== null ? { timezone: r.timezone } : {}),
});
const iso = (ms: number | null) => (ms === null ? null : isoNow(ms));

/**
 * One object per flow with schedule triggers (`idFromName(flow_id)`): stores each trigger's next fire
 * and keeps ONE alarm on the earliest. On alarm it enqueues one schedule event per due trigger (fired
 * once for the most recent due instant when late), then re-arms. The cron arithmetic is engine/cron.ts.
 *
 * Storage: store/schedule-storage.ts. A cleared object deletes everything. An object named `agent:<agent_id>`
 * holds an agent's schedule instead (objects/agent-schedule.ts): same alarm, clock and retry policy.
 */
export class FlowScheduleObject extends DurableObject<Env> implements FlowScheduleObjectRpc {
  /** The scheduler's clock (ms). Tests replace it to move time; fires are computed against it. */
  clock: () => number = () => Date.now();
  /** The last alarm's outcome (for tests and logs). */
  lastAlarm: AlarmOutcome | null = null;
  /** The last alarm's outcome in an agent's object. */
  lastAgentAlarm: AgentAlarmOutcome | null = null;
  private readonly store: ScheduleStorage;
  private readonly agents: AgentScheduler;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ScheduleStorage(ctx.storage);
    this.agents = new AgentScheduler(
      this.store,
      ctx.storage,
      env,
      () => this.clock(),
      () => this.wipe(),
    );
  }

  // ---- RPC ---------------------------------------------------------------------------------

  /**
   * Replaces the flow's schedule triggers. Disabled or without schedule triggers: clears everything.
   * A trigger kept unchanged (same id, cron, zone) keeps its next fire unless that is already past;
   * any other next fire is computed from now, so a fire missed while disabled is never replayed.
   */
  async sync(orgId: string, flowId: string, triggers: ScheduleTriggerSpec[], enabled: boolean): Promise<ScheduleStatus> {
    return this.serial(async () => {
      if (!enabled || triggers.length === 0) await this.wipe();
      else await this.replace(orgId, flowId, triggers);
      return this.readStatus();
    });
  }

  /** Clears the schedule (the flow was deleted or disabled). */
  async clear(): Promise<void> {
    await this.serial(() => this.wipe());
  }

  async status(): Promise<ScheduleStatus> {
    return this.serial(() => this.readStatus());
  }

  /** An agent's object: stores its schedule, pause flag and catch-up policy (clear() removes it). */
  async syncAgent(input: AgentScheduleInput): Promise<AgentScheduleStatus> {
    return this.serial(() => this.agents.sync(input));
  }

  /** Reconciliation of an agent's object against its D1 row; whether it fixed something. */
  async ensureAgentArmed(input: AgentScheduleInput): Promise<boolean> {
    return this.serial(() => this.agents.ensureArmed(input));
  }

  async agentStatus(): Promise<AgentScheduleStatus> {
    return this.serial(() => this.agents.status());
  }

  /**
   * Reconciliation: with `expected` (the flow's triggers in D1), a different stored set is replaced;
   * otherwise a schedule with a next fire but no alarm is re-armed. Returns whether it fixed something.
   */
  async ensureArmed(expected?: ExpectedSchedule): Promise<boolean> {
    return this.serial(async () => {
      const rows = this.rows();
      if (expected) {
        const meta = this.meta();
        const differs = !sameTriggerSet(rows.map(specOf), expected.triggers) || meta?.org_id !== expected.org_id;
        if (differs) {
          if (expected.triggers.length === 0) await this.wipe();
          else await this.replace(expected.org_id, expected.flow_id, expected.triggers);
          return true;
        }
      }
      if (earliestFire(rows.map((r) => r.next_fire_at)) === null) return false;
      if ((await this.ctx.storage.getAlarm()) !== null) return false;
      await this.syncAlarm();
      return true;
    });
  }

  // ---- alarm ------------------------------------------------------------------------------

  /**
   * A failing alarm (D1 or the queue unavailable) re-arms itself shortly instead of throwing: the platform
   * gives up on an alarm after a few retries, and a schedule must not depend on reconciliation to go on.
   * Nothing due was marked fired, so the retry fires it (late, once).
   */
  override async alarm(): Promise<void> {
    await this.serial(async () => {
      try {
        await this.onAlarm();
      } catch (err) {
        console.error(
          `schedule alarm failed, retrying in ${LIMITS.SCHEDULE_ALARM_RETRY_MS} ms`,
          err instanceof Error ? err.message : String(err),
        );
        await this.ctx.storage.setAlarm(Date.now() + LIMITS.SCHEDULE_ALARM_RETRY_MS);
      }
    });
  }

  private async onAlarm(): Promise<void> {
    if (this.agents.isAgent()) {
      this.lastAgentAlarm = await this.agents.alarm();
      return;
    }
    const now = this.clock();
    const meta = this.meta();
    const outcome: AlarmOutcome = { fired: [] };
    this.lastAlarm = outcome;
    if (!meta || this.rows().length === 0) {
      await this.wipe();
      outcome.cleared = "no schedule triggers";
      return;
    }
    if (!this.rows().some((r) => r.next_fire_at !== null && r.next_fire_at <= now)) {
      await this.syncAlarm(); // woke early (or a moved clock): just re-arm
      return;
    }
    // D1 is the truth: the circuit breaker disables flows without telling this object, and an API sync may
    // have failed. A disabled or deleted flow clears the schedule; a changed trigger set is adopted first.
    const flow = await getFlowScheduleState(this.env.DB, meta.org_id, meta.flow_id);
    if (!flow || !flow.enabled) {
      await this.wipe();
      outcome.cleared = flow ? "flow disabled" : "flow deleted";
      return;
    }
    const desired = scheduleTriggersOf(flow);
    if (!sameTriggerSet(this.rows().map(specOf), desired)) {
      outcome.resynced = true;
      if (desired.length === 0) {
        await this.wipe();
        outcome.cleared = "no schedule triggers";
        return;
      }
      await this.replace(meta.org_id, meta.flow_id, desired, true);
    }
    for (const row of this.rows()) {
      if (row.next_fire_at === null) continue;
      const spec = specOf(row);
      const due = dueFire(spec, row.next_fire_at, now);
      if (!due) continue;
      const event: ScheduleEvent = {
        id: scheduleEventId(meta.flow_id, row.trigger_id, due.instant),
        org_id: meta.org_id,
        at: isoNow(now),
        depth: 0,
        type: "schedule",
        flow_id: meta.flow_id,
        trigger_id: row.trigger_id,
        scheduled_at: isoNow(due.instant),
        cron: row.cron,
        ...(spec.timezone ? { timezone: spec.timezone } : {}),
      };
      // Enqueue before moving on: if this invocation dies here, the retried alarm sends the same event id
      // again, and the consumer's deterministic execution id turns that into nothing new.
      await enqueueEvent(this.env, event);
      this.store.markFired(row.trigger_id, due.next, due.instant, event.id);
      if (due.skipped > 0) {
        console.warn(
          `schedule ${meta.flow_id}/${row.trigger_id}: alarm late, fired ${event.scheduled_at} once and skipped ${due.skipped} earlier instant(s)`,
        );
      }
      outcome.fired.push({
        trigger_id: row.trigger_id,
        event_id: event.id,
        scheduled_at: event.scheduled_at,
        skipped: due.skipped,
      });
    }
    await this.syncAlarm();
  }

  // ---- storage ----------------------------------------------------------------------------

  /** RPCs and alarms of one object run one after another (D1 and queue awaits would let them interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private meta(): { org_id: string; flow_id: string } | null {
    return this.store.meta();
  }

  private rows(): ScheduleTriggerRow[] {
    return this.store.triggers();
  }

  /**
   * Stores a new trigger set. An unchanged trigger keeps its next fire when still ahead, or also when
   * already due if `keepDue` (the alarm adopting D1's set must still fire what is due); others start from now.
   */
  private async replace(orgId: string, flowId: string, triggers: ScheduleTriggerSpec[], keepDue = false): Promise<void> {
    const now = this.clock();
    const kept = new Map(this.rows().map((r) => [JSON.stringify(specOf(r)), r]));
    const rows = triggers.map((t): ScheduleTriggerRow => {
      const spec: ScheduleTriggerSpec = {
        trigger_id: t.trigger_id,
        cron: t.cron,
        ...(t.timezone ? { timezone: t.timezone } : {}),
      };
      const old = kept.get(JSON.stringify(spec));
      const keep = old && old.next_fire_at !== null && (keepDue || old.next_fire_at >= now);
      return {
        trigger_id: spec.trigger_id,
        cron: spec.cron,
        timezone: spec.timezone ?? null,
        next_fire_at: keep ? old.next_fire_at : nextFireAfter(spec, now),
        last_fired_at: old?.last_fired_at ?? null,
        last_event_id: old?.last_event_id ?? null,
      };
    });
    this.store.replace(orgId, flowId, rows);
    await this.syncAlarm();
  }

  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store.forgetTables();
  }

  /** One alarm on the earliest next fire, in real time (a moved test clock fires due work at once). */
  private async syncAlarm(): Promise<void> {
    const earliest = earliestFire(this.rows().map((r) => r.next_fire_at));
    if (earliest === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Date.now() + Math.max(0, earliest - this.clock()));
  }

  private async readStatus(): Promise<ScheduleStatus> {
    const meta = this.meta();
    return {
      org_id: meta?.org_id ?? null,
      flow_id: meta?.flow_id ?? null,
      triggers: this.rows().map((r) => ({
        ...specOf(r),
        next_fire_at: iso(r.next_fire_at),
        last_fired_at: iso(r.last_fired_at),
        last_event_id: r.last_event_id,
      })),
      alarm_at: await this.ctx.storage.getAlarm(),
    };
  }
}
