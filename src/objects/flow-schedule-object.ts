import { DurableObject } from "cloudflare:workers";
import { earliestFire, sameTriggerSet, scheduleEventId, scheduleTriggersOf, type ScheduleTriggerSpec } from "../engine/cron";
import {
  dueFires,
  nextScheduledFire,
  resumedNextFire,
  scheduleSpec,
  type AgentScheduleInput,
  type AgentScheduleStatus,
  type ScheduleSpec,
} from "../engine/schedule";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import type { TriggerEvent } from "../schemas/events";
import type { CatchUp } from "../schemas/triggers";
import { ScheduleStorage, type ScheduleTarget, type ScheduleTriggerRow } from "../store/schedule-storage";
import { getFlowScheduleState } from "../store/schedules";
import { enqueueEvent } from "../services/event-queue";
import { agentForFire, fireAgent } from "../services/agent-runs";
import type { ExpectedSchedule, FlowScheduleObjectRpc, ScheduleStatus } from "../contracts/flow-schedule-object";

export type ScheduleEvent = Extract<TriggerEvent, { type: "schedule" }>;

/** What one alarm of a flow's object did (kept in memory for tests and logs). */
export interface AlarmOutcome {
  fired: { trigger_id: string; event_id: string; scheduled_at: string; skipped: number }[];
  cleared?: "flow deleted" | "flow disabled" | "no schedule triggers";
  resynced?: boolean;
}

/** What one alarm of an agent's object did (kept for tests and logs). */
export interface AgentAlarmOutcome {
  /** The instants run (ISO), oldest first. */
  fired: string[];
  started: string[];
  errors: string[];
  skipped: number;
  paused?: true;
  cleared?: "agent deleted" | "no schedule";
  resynced?: true;
}

/** The one trigger of an agent's object. */
const AGENT_TRIGGER = "agent";
const iso = (ms: number | null) => (ms === null ? null : isoNow(ms));

const specOf = (r: ScheduleTriggerRow): ScheduleTriggerSpec => ({
  trigger_id: r.trigger_id,
  ...(r.cron !== null ? { cron: r.cron } : {}),
  ...(r.timezone !== null ? { timezone: r.timezone } : {}),
  ...(r.interval_ms !== null ? { interval: r.interval_ms / 1000 } : {}),
  ...(r.catch_up !== "none" ? { catch_up: r.catch_up as CatchUp } : {}),
  ...(r.paused === 1 ? { paused: true } : {}),
});
/** The arithmetic of a row: its cron, or its interval on the grid it was anchored to. */
const timingOf = (r: Pick<ScheduleTriggerRow, "cron" | "timezone" | "interval_ms" | "anchor_ms">): ScheduleSpec =>
  scheduleSpec(
    r.interval_ms !== null
      ? { interval: r.interval_ms / 1000 }
      : { cron: r.cron ?? "", ...(r.timezone ? { timezone: r.timezone } : {}) },
    r.anchor_ms ?? 0,
  );
/** Two specs fire at the same instants (catch_up and pause aside; an interval keeps the grid it started on). */
const sameTiming = (a: ScheduleTriggerSpec, b: ScheduleTriggerSpec) =>
  a.trigger_id === b.trigger_id &&
  (a.cron ?? null) === (b.cron ?? null) &&
  (a.timezone ?? null) === (b.timezone ?? null) &&
  (a.interval ?? null) === (b.interval ?? null);

/**
 * The one scheduler: one object per flow with schedule triggers (`idFromName(flow_id)`), and one per scheduled agent
 * (`idFromName("agent:" + agent_id)`), whose one trigger is the agent's schedule (an agent is a flow plus its
 * agent_config). Every trigger fires on a cron or an interval grid, has a catch-up policy and may be paused; the
 * object stores each trigger's next fire and keeps ONE alarm on the earliest. A flow's fire is a schedule event on
 * the queue (its execution id derives from the instant); an agent's fire starts its runs through admission. The
 * arithmetic is engine/schedule.ts, the storage store/schedule-storage.ts. A cleared object deletes everything.
 */
export class FlowScheduleObject extends DurableObject<Env> implements FlowScheduleObjectRpc {
  /** The scheduler's clock (ms). Tests replace it to move time; fires are computed against it. */
  clock: () => number = () => Date.now();
  /** The last alarm's outcome in a flow's object (for tests and logs). */
  lastAlarm: AlarmOutcome | null = null;
  /** The last alarm's outcome in an agent's object. */
  lastAgentAlarm: AgentAlarmOutcome | null = null;
  private readonly store: ScheduleStorage;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ScheduleStorage(ctx.storage);
  }

  // ---- RPC: flows ----------------------------------------------------------------------------

  /**
   * Replaces the flow's schedule triggers. Disabled or without schedule triggers: clears everything. A trigger kept
   * with the same timing keeps its next fire unless that is already past (a resumed one follows its catch_up); any
   * other next fire is computed from now, so a fire missed while disabled is never replayed.
   */
  async sync(orgId: string, flowId: string, triggers: ScheduleTriggerSpec[], enabled: boolean): Promise<ScheduleStatus> {
    return this.serial(async () => {
      if (!enabled || triggers.length === 0) await this.wipe();
      else await this.replace({ org_id: orgId, flow_id: flowId, agent_id: null }, triggers);
      return this.readStatus();
    });
  }

  /** Clears the schedule (the flow or agent was deleted, or the flow disabled). */
  async clear(): Promise<void> {
    await this.serial(() => this.wipe());
  }

  async status(): Promise<ScheduleStatus> {
    return this.serial(() => this.readStatus());
  }

  /**
   * Reconciliation: with `expected` (the flow's triggers in D1), a different stored set is replaced; otherwise a
   * schedule with a next fire but no alarm is re-armed. Returns whether it fixed something.
   */
  async ensureArmed(expected?: ExpectedSchedule): Promise<boolean> {
    return this.serial(async () => {
      if (expected) {
        const target = this.store.target();
        const differs = !sameTriggerSet(this.rows().map(specOf), expected.triggers) || target?.org_id !== expected.org_id;
        if (differs) {
          if (expected.triggers.length === 0) await this.wipe();
          else await this.replace({ org_id: expected.org_id, flow_id: expected.flow_id, agent_id: null }, expected.triggers);
          return true;
        }
      }
      return this.rearmIfLost();
    });
  }

  // ---- RPC: agents ---------------------------------------------------------------------------

  /**
   * An agent's object: stores its schedule as the one trigger, with the agent's pause state. An unchanged schedule
   * keeps its next fire; a new or changed one starts from now. Pausing keeps the next fire (the first instant to be
   * missed) and drops the alarm; resuming applies the catch-up policy.
   */
  async syncAgent(input: AgentScheduleInput): Promise<AgentScheduleStatus> {
    return this.serial(async () => {
      await this.replace({ org_id: input.org_id, flow_id: null, agent_id: input.agent_id }, [agentSpec(input)], true);
      return this.readAgentStatus();
    });
  }

  /** Reconciliation of an agent's object against its D1 row; whether it fixed something. */
  async ensureAgentArmed(input: AgentScheduleInput): Promise<boolean> {
    return this.serial(async () => {
      const target = this.store.target();
      const stored = this.rows().map(specOf);
      if (target?.agent_id !== input.agent_id || target.org_id !== input.org_id || !sameTriggerSet(stored, [agentSpec(input)])) {
        await this.replace({ org_id: input.org_id, flow_id: null, agent_id: input.agent_id }, [agentSpec(input)], true);
        return true;
      }
      return this.rearmIfLost();
    });
  }

  async agentStatus(): Promise<AgentScheduleStatus> {
    return this.serial(() => this.readAgentStatus());
  }

  // ---- alarm ------------------------------------------------------------------------------

  /**
   * A failing alarm (D1 or the queue unavailable) re-arms itself shortly instead of throwing: the platform gives up on
   * an alarm after a few retries, and a schedule must not depend on reconciliation to go on. Nothing due was marked
   * fired, so the retry fires it (late).
   */
  override async alarm(): Promise<void> {
    await this.serial(async () => {
      try {
        const target = this.store.target();
        if (target?.agent_id) this.lastAgentAlarm = await this.onAgentAlarm(target);
        else {
          // Filled as the alarm goes: a failure half-way leaves what it did.
          this.lastAlarm = { fired: [] };
          await this.onFlowAlarm(target, this.lastAlarm);
        }
      } catch (err) {
        console.error(
          `schedule alarm failed, retrying in ${LIMITS.SCHEDULE_ALARM_RETRY_MS} ms`,
          err instanceof Error ? err.message : String(err),
        );
        await this.ctx.storage.setAlarm(Date.now() + LIMITS.SCHEDULE_ALARM_RETRY_MS);
      }
    });
  }

  /** The triggers due now (not paused), with what each runs under its catch-up policy. */
  private due(now: number) {
    return this.rows()
      .filter((r) => r.paused === 0 && r.next_fire_at !== null && r.next_fire_at <= now)
      .map((row) => ({
        row,
        fires: dueFires(timingOf(row), row.next_fire_at!, now, row.catch_up as CatchUp, LIMITS.MAX_AGENT_CATCHUP_RUNS)!,
      }));
  }

  private async onFlowAlarm(target: ScheduleTarget | null, outcome: AlarmOutcome): Promise<void> {
    const now = this.clock();
    if (!target?.flow_id || this.rows().length === 0) {
      await this.wipe();
      outcome.cleared = "no schedule triggers";
      return;
    }
    if (this.due(now).length === 0) {
      await this.syncAlarm(); // woke early (or a moved clock): just re-arm
      return;
    }
    // D1 is the truth: the circuit breaker disables flows without telling this object, and an API sync may have
    // failed. A disabled or deleted flow clears the schedule; a changed trigger set is adopted first.
    const flow = await getFlowScheduleState(this.env.DB, target.org_id, target.flow_id);
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
      await this.replace(target, desired, true);
    }
    for (const { row, fires } of this.due(now)) {
      let eventId = "";
      for (const instant of fires.instants) {
        const event: ScheduleEvent = {
          id: scheduleEventId(target.flow_id, row.trigger_id, instant),
          org_id: target.org_id,
          at: isoNow(now),
          depth: 0,
          type: "schedule",
          flow_id: target.flow_id,
          trigger_id: row.trigger_id,
          scheduled_at: isoNow(instant),
          ...(row.cron !== null ? { cron: row.cron } : {}),
          ...(row.timezone ? { timezone: row.timezone } : {}),
          ...(row.interval_ms !== null ? { interval: row.interval_ms / 1000 } : {}),
        };
        // Enqueue before moving on: if this invocation dies here, the retried alarm sends the same event id again,
        // and the consumer's deterministic execution id turns that into nothing new.
        await enqueueEvent(this.env, event);
        eventId = event.id;
        outcome.fired.push({
          trigger_id: row.trigger_id,
          event_id: event.id,
          scheduled_at: event.scheduled_at,
          skipped: fires.skipped,
        });
      }
      this.store.markFired(row.trigger_id, fires.next, fires.instants.at(-1)!, eventId);
      if (fires.skipped > 0)
        console.warn(`schedule ${target.flow_id}/${row.trigger_id}: alarm late, ${fires.skipped} earlier instant(s) not fired`);
    }
    await this.syncAlarm();
  }

  private async onAgentAlarm(target: ScheduleTarget): Promise<AgentAlarmOutcome> {
    const now = this.clock();
    const out: AgentAlarmOutcome = { fired: [], started: [], errors: [], skipped: 0 };
    const row = this.rows()[0];
    if (!row) return out;
    if (row.paused === 1) {
      // A paused agent never fires, whatever woke the object.
      await this.ctx.storage.deleteAlarm();
      return { ...out, paused: true };
    }
    if (row.next_fire_at === null || row.next_fire_at > now) {
      await this.syncAlarm(); // woke early (or a moved clock): just re-arm
      return out;
    }
    // D1 is the truth: a pause or delete whose call into this object failed must still stop the fire.
    const agent = await agentForFire(this.env, target.org_id, target.agent_id!);
    if (!agent || !agent.schedule_config) {
      await this.wipe();
      return { ...out, cleared: agent ? "no schedule" : "agent deleted" };
    }
    if (agent.status === "paused") {
      this.store.setPaused(AGENT_TRIGGER, true, row.next_fire_at);
      await this.ctx.storage.deleteAlarm();
      return { ...out, paused: true };
    }
    const desired = agentSpec({ org_id: agent.org_id, agent_id: agent.id, config: agent.schedule_config, paused: false });
    if (!sameTiming(specOf(row), desired)) {
      // A schedule change whose sync failed: adopt it from now; the old instants are not fired.
      await this.replace(target, [desired], true);
      return { ...out, resynced: true };
    }
    if ((row.catch_up as CatchUp) !== agent.schedule_config.catch_up) await this.replace(target, [desired], true);
    const [due] = this.due(now);
    if (!due) return out;
    // Runs start before the next fire is stored: a retried alarm fires the same instants, which start nothing new.
    const res = await fireAgent(this.env, agent, due.fires.instants, now);
    if (due.fires.skipped > 0)
      console.warn(
        `agent ${agent.id}: ${due.fires.skipped} missed run(s) not replayed (catch_up: ${agent.schedule_config.catch_up})`,
      );
    this.store.markFired(AGENT_TRIGGER, due.fires.next, due.fires.instants.at(-1)!, null);
    await this.syncAlarm();
    return { fired: due.fires.instants.map(isoNow), started: res.started, errors: res.errors, skipped: due.fires.skipped };
  }

  // ---- storage ----------------------------------------------------------------------------

  /** RPCs and alarms of one object run one after another (D1 and queue awaits would let them interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private rows(): ScheduleTriggerRow[] {
    return this.store.triggers();
  }

  /**
   * Stores a new trigger set. A trigger with the same timing keeps its grid and its next fire when still ahead, or
   * also when already due if `keepDue` (an alarm adopting D1's set, an agent's sync: what is due still fires); a
   * paused one keeps its next fire (the first instant it misses), a resumed one follows its catch_up policy; any
   * other trigger starts from now.
   */
  private async replace(target: ScheduleTarget, triggers: ScheduleTriggerSpec[], keepDue = false): Promise<void> {
    const now = this.clock();
    const old = new Map(this.rows().map((r) => [r.trigger_id, r]));
    const rows = triggers.map((t): ScheduleTriggerRow => {
      const prev = old.get(t.trigger_id);
      const kept = prev && sameTiming(specOf(prev), t) ? prev : undefined;
      const timing = {
        cron: t.cron ?? null,
        timezone: t.cron !== undefined ? (t.timezone ?? null) : null,
        interval_ms: t.interval !== undefined ? t.interval * 1000 : null,
        // A new interval trigger's grid starts now, on this object's clock.
        anchor_ms: t.interval !== undefined ? (kept?.anchor_ms ?? now) : null,
      };
      const spec = timingOf(timing);
      const catchUp = t.catch_up ?? "none";
      let next: number | null;
      if (!kept) next = nextScheduledFire(spec, now);
      else if (kept.paused === 1 && !t.paused) next = resumedNextFire(spec, kept.next_fire_at, now, catchUp);
      else if (kept.next_fire_at !== null && (keepDue || t.paused || kept.next_fire_at >= now)) next = kept.next_fire_at;
      else next = nextScheduledFire(spec, now);
      return {
        trigger_id: t.trigger_id,
        ...timing,
        catch_up: catchUp,
        paused: t.paused ? 1 : 0,
        next_fire_at: next,
        last_fired_at: prev?.last_fired_at ?? null,
        last_event_id: prev?.last_event_id ?? null,
      };
    });
    this.store.replace(target, rows);
    await this.syncAlarm();
  }

  /** A schedule with a next fire but no alarm gets its alarm back; whether it had to. */
  private async rearmIfLost(): Promise<boolean> {
    if (earliestFire(this.activeNexts()) === null) return false;
    if ((await this.ctx.storage.getAlarm()) !== null) return false;
    await this.syncAlarm();
    return true;
  }

  private activeNexts(): (number | null)[] {
    return this.rows().map((r) => (r.paused === 1 ? null : r.next_fire_at));
  }

  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store.forgetTables();
  }

  /** One alarm on the earliest next fire of the triggers not paused, in real time (a moved test clock fires at once). */
  private async syncAlarm(): Promise<void> {
    const earliest = earliestFire(this.activeNexts());
    if (earliest === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Date.now() + Math.max(0, earliest - this.clock()));
  }

  private async readStatus(): Promise<ScheduleStatus> {
    const target = this.store.target();
    return {
      org_id: target?.org_id ?? null,
      flow_id: target?.flow_id ?? null,
      triggers: this.rows().map((r) => ({
        ...specOf(r),
        next_fire_at: iso(r.next_fire_at),
        last_fired_at: iso(r.last_fired_at),
        last_event_id: r.last_event_id,
      })),
      alarm_at: await this.ctx.storage.getAlarm(),
    };
  }

  private async readAgentStatus(): Promise<AgentScheduleStatus> {
    const target = this.store.target();
    const r = target?.agent_id ? this.rows()[0] : undefined;
    return {
      agent_id: r ? target!.agent_id : null,
      paused: r?.paused === 1,
      next_fire_at: r && r.paused === 0 ? iso(r.next_fire_at) : null,
      last_fired_at: iso(r?.last_fired_at ?? null),
      alarm_at: await this.ctx.storage.getAlarm(),
    };
  }
}

/** An agent's schedule as its object's one trigger. */
function agentSpec(input: AgentScheduleInput): ScheduleTriggerSpec {
  const c = input.config;
  return {
    trigger_id: AGENT_TRIGGER,
    ...(c.interval !== undefined
      ? { interval: c.interval }
      : { cron: c.cron ?? "", ...(c.timezone ? { timezone: c.timezone } : {}) }),
    ...(c.catch_up !== "none" ? { catch_up: c.catch_up } : {}),
    ...(input.paused ? { paused: true } : {}),
  };
}
