import {
  agentDueFires,
  agentScheduleSpec,
  nextAgentFireAfter,
  resumedNextFire,
  type AgentScheduleConfig,
  type AgentScheduleInput,
  type AgentScheduleSpec,
  type AgentScheduleStatus,
  type CatchUp,
} from "../engine/agent-schedule";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { agentForFire, fireAgent } from "../services/agent-runs";
import type { AgentScheduleRow, ScheduleStorage } from "../store/schedule-storage";

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

const iso = (ms: number | null) => (ms === null ? null : isoNow(ms));

const configOf = (r: AgentScheduleRow): AgentScheduleConfig =>
  r.interval_ms !== null
    ? { interval: r.interval_ms / 1000, catch_up: r.catch_up as CatchUp }
    : { cron: r.cron ?? "", ...(r.timezone !== null ? { timezone: r.timezone } : {}), catch_up: r.catch_up as CatchUp };
const specOfRow = (r: AgentScheduleRow): AgentScheduleSpec => agentScheduleSpec(configOf(r), r.anchor_ms ?? 0);
/** Two configs fire at the same instants (catch_up aside; an interval keeps the grid it started on). */
const sameTiming = (a: AgentScheduleConfig, b: AgentScheduleConfig) =>
  a.interval === b.interval && a.cron === b.cron && (a.timezone ?? null) === (b.timezone ?? null);

/**
 * The agent half of a FlowScheduleObject named `agent:<agent_id>` (services/agents.ts): one schedule row with
 * its pause flag and next fire, and the alarm on that next fire. On alarm it checks the agent in D1 (deleted:
 * clears; paused: fires nothing), then starts the due runs through services/agent-runs.ts (admission), then
 * stores the next fire. No second scheduler: the object, its alarm, retry policy and clock are the flows'.
 */
export class AgentScheduler {
  constructor(
    private readonly store: ScheduleStorage,
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly clock: () => number,
    private readonly wipe: () => Promise<void>,
  ) {}

  isAgent(): boolean {
    return this.store.agent() !== null;
  }

  /**
   * Stores the agent's schedule. An unchanged schedule keeps its next fire; a new or changed one starts from
   * now. Pausing keeps the next fire (the first instant to be missed) and drops the alarm; resuming applies
   * the catch-up policy (engine/agent-schedule.ts resumedNextFire).
   */
  async sync(input: AgentScheduleInput): Promise<AgentScheduleStatus> {
    const now = this.clock();
    const old = this.store.agent();
    const kept = old && old.agent_id === input.agent_id && sameTiming(configOf(old), input.config) ? old : null;
    // A new interval schedule's grid starts now, on this object's clock.
    const anchor = kept?.anchor_ms ?? now;
    const spec = agentScheduleSpec(input.config, anchor);
    let next = kept ? kept.next_fire_at : nextAgentFireAfter(spec, now);
    if (kept && kept.paused === 1 && !input.paused) next = resumedNextFire(spec, kept.next_fire_at, now, input.config.catch_up);
    this.store.putAgent({
      org_id: input.org_id,
      agent_id: input.agent_id,
      cron: input.config.cron ?? null,
      timezone: input.config.timezone ?? null,
      interval_ms: input.config.interval !== undefined ? input.config.interval * 1000 : null,
      anchor_ms: input.config.interval !== undefined ? anchor : null,
      catch_up: input.config.catch_up,
      paused: input.paused ? 1 : 0,
      next_fire_at: next,
      last_fired_at: kept?.last_fired_at ?? null,
    });
    await this.arm();
    return this.status();
  }

  /**
   * Reconciliation: a stored schedule that differs from D1's (lost, other config, other pause state) is synced;
   * an active one without an alarm is re-armed. Returns whether it fixed something.
   */
  async ensureArmed(input: AgentScheduleInput): Promise<boolean> {
    const r = this.store.agent();
    const differs =
      !r ||
      r.agent_id !== input.agent_id ||
      r.org_id !== input.org_id ||
      !sameTiming(configOf(r), input.config) ||
      r.catch_up !== input.config.catch_up ||
      (r.paused === 1) !== input.paused;
    if (differs) {
      await this.sync(input);
      return true;
    }
    if (r.paused === 1 || r.next_fire_at === null || (await this.storage.getAlarm()) !== null) return false;
    await this.arm();
    return true;
  }

  async status(): Promise<AgentScheduleStatus> {
    const r = this.store.agent();
    return {
      agent_id: r?.agent_id ?? null,
      paused: r?.paused === 1,
      next_fire_at: r && r.paused === 0 ? iso(r.next_fire_at) : null,
      last_fired_at: iso(r?.last_fired_at ?? null),
      alarm_at: await this.storage.getAlarm(),
    };
  }

  async alarm(): Promise<AgentAlarmOutcome> {
    const now = this.clock();
    const out: AgentAlarmOutcome = { fired: [], started: [], errors: [], skipped: 0 };
    const row = this.store.agent();
    if (!row) return out;
    if (row.paused === 1) {
      // A paused agent never fires, whatever woke the object.
      await this.storage.deleteAlarm();
      return { ...out, paused: true };
    }
    if (row.next_fire_at === null || row.next_fire_at > now) {
      await this.arm(); // woke early (or a moved clock): just re-arm
      return out;
    }
    // D1 is the truth: a pause or delete whose call into this object failed must still stop the fire.
    const agent = await agentForFire(this.env, row.org_id, row.agent_id);
    if (!agent || !agent.schedule_config) {
      await this.wipe();
      return { ...out, cleared: agent ? "no schedule" : "agent deleted" };
    }
    if (agent.status === "paused") {
      this.store.putAgent({ ...row, paused: 1 });
      await this.storage.deleteAlarm();
      return { ...out, paused: true };
    }
    if (!sameTiming(configOf(row), agent.schedule_config)) {
      // A schedule change whose sync failed: adopt it from now; the old instants are not fired.
      await this.sync({ org_id: row.org_id, agent_id: row.agent_id, config: agent.schedule_config, paused: false });
      return { ...out, resynced: true };
    }
    const spec = specOfRow(row);
    const catchUp = agent.schedule_config.catch_up;
    const due = agentDueFires(spec, row.next_fire_at, now, catchUp, LIMITS.MAX_AGENT_CATCHUP_RUNS);
    if (!due) return out;
    // Runs start before the next fire is stored: a retried alarm fires the same instants, which start nothing new.
    const res = await fireAgent(this.env, agent, due.instants, now);
    if (due.skipped > 0) {
      console.warn(`agent ${row.agent_id}: ${due.skipped} missed run(s) not replayed (catch_up: ${catchUp})`);
    }
    this.store.putAgent({ ...row, catch_up: catchUp, next_fire_at: due.next, last_fired_at: due.instants.at(-1) ?? null });
    await this.arm();
    return { fired: due.instants.map(isoNow), started: res.started, errors: res.errors, skipped: due.skipped };
  }

  /** One alarm on the next fire, in real time (a moved test clock fires due work at once); none while paused. */
  private async arm(): Promise<void> {
    const r = this.store.agent();
    if (!r || r.paused === 1 || r.next_fire_at === null) {
      await this.storage.deleteAlarm();
      return;
    }
    await this.storage.setAlarm(Date.now() + Math.max(0, r.next_fire_at - this.clock()));
  }
}
