import { Cron } from "croner";
import { LIMITS } from "../lib/limits";
import { CATCH_UP_POLICIES, type CatchUp } from "../schemas/triggers";

/**
 * Cron arithmetic of the schedule triggers, pure: every function takes `now` (ms) as a parameter. All
 * calendar, time-zone and daylight-saving work is croner's (5- or 6-field patterns, Vixie-cron DST rules:
 * a fixed-time job in a spring-forward gap runs at the first valid time after the gap, once on a
 * repeated hour; an interval job skips gap times and runs on both passes of a repeated hour).
 */

/** One schedule trigger (a flow's, or an agent's schedule), as the schedule object stores it. */
export interface ScheduleTriggerSpec {
  trigger_id: string;
  /** A cron expression (with `timezone`), or else `interval`. */
  cron?: string;
  timezone?: string;
  /** Seconds between fires, on a grid from when the trigger was first stored. */
  interval?: number;
  /** Default `none`. */
  catch_up?: CatchUp;
  /** A paused trigger fires nothing; resumed, it follows its catch_up policy. */
  paused?: boolean;
}

/** Forward steps walked from a missed instant to the most recent one before jumping with croner's previousRuns. */
export const MAX_CATCHUP_STEPS = LIMITS.MAX_CRON_CATCHUP_STEPS;

type CronSpec = { cron: string; timezone?: string };

function job(spec: CronSpec): Cron {
  return new Cron(spec.cron, { timezone: spec.timezone, paused: true, mode: "5-or-6-parts" });
}

/** The first fire strictly after `after` (ms), or null when the expression never fires again or is invalid. */
export function nextFireAfter(spec: CronSpec, after: number): number | null {
  try {
    return job(spec).nextRun(new Date(after))?.getTime() ?? null;
  } catch {
    return null;
  }
}

export interface DueFire {
  /** The instant to fire for: the most recent scheduled instant at or before `now`. */
  instant: number;
  /** Scheduled instants before `instant` not fired because the alarm ran late (a lower bound above MAX_CATCHUP_STEPS). */
  skipped: number;
  /** The next fire strictly after `instant` (null: never again). */
  next: number | null;
}

/**
 * What a trigger whose stored next fire is `next` does at `now`: nothing (null) when `next` is still
 * ahead, else fire ONCE for the most recent due instant (a late alarm does not replay every instant it
 * slept through) and continue with the first instant after it.
 */
export function dueFire(spec: CronSpec, next: number, now: number): DueFire | null {
  if (next > now) return null;
  let instant = next;
  let skipped = 0;
  let following = nextFireAfter(spec, instant);
  while (following !== null && following <= now) {
    if (skipped >= MAX_CATCHUP_STEPS) {
      // Very late (or a very frequent cron): let croner find the last instant at or before now directly.
      const latest = job(spec)
        .previousRuns(1, new Date(now + 1))[0]
        ?.getTime();
      if (latest !== undefined && latest > instant) {
        instant = latest;
        skipped++; // at least one more; the exact number is not worth walking for
      }
      following = nextFireAfter(spec, instant);
      break;
    }
    instant = following;
    skipped++;
    following = nextFireAfter(spec, instant);
  }
  return { instant, skipped, next: following };
}

/** The earliest of the next fires (null when none is set). */
export function earliestFire(nexts: (number | null)[]): number | null {
  let min: number | null = null;
  for (const n of nexts) if (n !== null && (min === null || n < min)) min = n;
  return min;
}

interface TriggerLike {
  id: string;
  type: string;
  configuration?: unknown;
}

const isCatchUp = (v: unknown): v is CatchUp => (CATCH_UP_POLICIES as readonly unknown[]).includes(v);

/** The schedule triggers of a flow document (other trigger types are left out). */
export function scheduleTriggersOf(flow: { triggers: readonly TriggerLike[] }): ScheduleTriggerSpec[] {
  const out: ScheduleTriggerSpec[] = [];
  for (const t of flow.triggers) {
    if (t.type !== "schedule") continue;
    const cfg = (t.configuration ?? {}) as {
      cron?: unknown;
      timezone?: unknown;
      interval?: unknown;
      catch_up?: unknown;
      paused?: unknown;
    };
    const timing =
      typeof cfg.cron === "string"
        ? { cron: cfg.cron, ...(typeof cfg.timezone === "string" ? { timezone: cfg.timezone } : {}) }
        : typeof cfg.interval === "number"
          ? { interval: cfg.interval }
          : null;
    if (!timing) continue;
    out.push({
      trigger_id: t.id,
      ...timing,
      ...(isCatchUp(cfg.catch_up) && cfg.catch_up !== "none" ? { catch_up: cfg.catch_up } : {}),
      ...(cfg.paused === true ? { paused: true } : {}),
    });
  }
  return out;
}

const specKey = (s: ScheduleTriggerSpec) =>
  JSON.stringify([s.trigger_id, s.cron ?? null, s.timezone ?? null, s.interval ?? null, s.catch_up ?? "none", s.paused === true]);

/** Whether two trigger sets are the same (ids, timing, catch-up and pause; order does not matter). */
export function sameTriggerSet(a: readonly ScheduleTriggerSpec[], b: readonly ScheduleTriggerSpec[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(specKey));
  return b.every((s) => keys.has(specKey(s)));
}

/** The event id of one fire: a fire repeated (alarm retry, double fire) is the same event, so starts one execution. */
export function scheduleEventId(flowId: string, triggerId: string, instant: number): string {
  return `cron:${flowId}:${triggerId}:${new Date(instant).toISOString()}`;
}
