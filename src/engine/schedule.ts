import { Cron } from "croner";
import { LIMITS } from "../lib/limits";
import type { CatchUp } from "../schemas/triggers";
import { nextFireAfter } from "./cron";

/**
 * Schedule arithmetic of schedule triggers (a flow's, or an agent's), pure: a trigger fires on a cron (croner, with
 * time zone) or every `interval` on a fixed grid (`anchor + n × interval`, n ≥ 1), so a pause or a late alarm never
 * shifts its later runs. What a late alarm or a resume runs is the trigger's `catch_up` policy.
 */

/** A schedule as stored: `interval` (seconds) or `cron` (+ `timezone`), and the catch-up policy (an agent's `schedule_config`). */
export interface ScheduleConfig {
  interval?: number;
  cron?: string;
  timezone?: string;
  catch_up: CatchUp;
}

/** What the services tell an agent's schedule object: the agent's schedule as D1 has it, and whether it is paused. */
export interface AgentScheduleInput {
  org_id: string;
  agent_id: string;
  config: ScheduleConfig;
  paused: boolean;
}

export interface AgentScheduleStatus {
  agent_id: string | null;
  paused: boolean;
  /** Next fire (ISO, object clock); null while paused or when the schedule never fires again. */
  next_fire_at: string | null;
  last_fired_at: string | null;
  alarm_at: number | null;
}

export type ScheduleSpec =
  { kind: "cron"; cron: string; timezone?: string } | { kind: "interval"; interval_ms: number; anchor: number };

/** The spec the scheduler runs for a config; an interval's grid starts at `anchor` (ms: when the object first stored it). */
export function scheduleSpec(config: Omit<ScheduleConfig, "catch_up"> & Partial<ScheduleConfig>, anchor: number): ScheduleSpec {
  if (config.interval !== undefined) return { kind: "interval", interval_ms: config.interval * 1000, anchor };
  return { kind: "cron", cron: config.cron ?? "", ...(config.timezone ? { timezone: config.timezone } : {}) };
}

/** The first instant strictly after `after` (ms), or null when the schedule never fires again. */
export function nextScheduledFire(spec: ScheduleSpec, after: number): number | null {
  if (spec.kind === "cron") return nextFireAfter(spec, after);
  const n = Math.max(1, Math.floor((after - spec.anchor) / spec.interval_ms) + 1);
  return spec.anchor + n * spec.interval_ms;
}

export interface DueFires {
  /** The instants to run now, oldest first. */
  instants: number[];
  /** Due instants not run (a lower bound when a very late cron was jumped over). */
  skipped: number;
  /** The next instant strictly after the last due one. */
  next: number | null;
}

/** Due instants from `next` to `now` (inclusive): the most recent `keep` of them (oldest first) and how many there were. */
function dueInstants(spec: ScheduleSpec, next: number, now: number, keep: number): { latest: number[]; count: number } {
  if (spec.kind === "interval") {
    const count = Math.floor((now - next) / spec.interval_ms) + 1;
    const take = Math.min(keep, count);
    const last = next + (count - 1) * spec.interval_ms;
    return { latest: Array.from({ length: take }, (_, i) => last - (take - 1 - i) * spec.interval_ms), count };
  }
  const latest: number[] = [];
  let count = 0;
  let at: number | null = next;
  while (at !== null && at <= now) {
    if (count >= LIMITS.MAX_CRON_CATCHUP_STEPS) {
      // Very late: let croner list the most recent instants directly instead of walking every one.
      const job = new Cron(spec.cron, { timezone: spec.timezone, paused: true, mode: "5-or-6-parts" });
      const recent = job.previousRuns(keep, new Date(now + 1)).map((d) => d.getTime());
      return { latest: recent.reverse(), count: count + 1 };
    }
    latest.push(at);
    if (latest.length > keep) latest.shift();
    count++;
    at = nextFireAfter(spec, at);
  }
  return { latest, count };
}

/**
 * What the alarm runs at `now` for a schedule whose stored next fire is `next`: nothing (null) while it is
 * ahead; else the most recent due instant once, or with `catch_up: "all"` every due instant up to
 * `maxRuns` (the most recent ones). Whether instants missed while paused are still due is decided on
 * resume (see resumedNextFire): `none` drops them, `one` and `all` keep them for this function.
 */
export function dueFires(spec: ScheduleSpec, next: number, now: number, catchUp: CatchUp, maxRuns: number): DueFires | null {
  if (next > now) return null;
  const { latest, count } = dueInstants(spec, next, now, catchUp === "all" ? Math.max(1, maxRuns) : 1);
  const last = latest[latest.length - 1] ?? next;
  return { instants: latest, skipped: Math.max(0, count - latest.length), next: nextScheduledFire(spec, last) };
}

/**
 * The next fire after a resume at `now`: a stored next fire still ahead is kept; one already past (runs were
 * missed while paused) is kept for the alarm to catch up when the policy asks for it, and otherwise
 * replaced by the first instant after now, so a resumed agent does not burst.
 */
export function resumedNextFire(spec: ScheduleSpec, storedNext: number | null, now: number, catchUp: CatchUp): number | null {
  if (storedNext !== null && (storedNext > now || catchUp !== "none")) return storedNext;
  return nextScheduledFire(spec, now);
}
