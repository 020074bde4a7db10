/**
 * The arithmetic of throttle and rate_limit: the generic cell rate algorithm (GCRA). One number per key,
 * the theoretical arrival time `tat` (ms), stands for the whole history; each admitted start pushes it one
 * emission interval (period / limit) on. D1 keeps `tat` (flow_control_state) and store/admission.ts does
 * the same sums in SQL inside the admission batch; these functions are the reference the tests compare it
 * with, and what the queue view uses to show the next throttle slot.
 */

export interface Gcra {
  /** The emission interval: period / limit, in whole ms (rounded up: never faster than asked). */
  interval_ms: number;
  /** How far ahead of now `tat` may run for a start to go at once, in ms. */
  tolerance_ms: number;
}

/**
 * Throttle: starts are spaced `period / limit` apart; `burst` more may go back to back. Any window of one
 * period sees at most `limit + burst` starts; over it a start waits for its slot, none is dropped.
 */
export const throttleGcra = (t: { limit: number; period_ms: number; burst: number }): Gcra => {
  const interval = Math.ceil(t.period_ms / t.limit);
  return { interval_ms: interval, tolerance_ms: t.burst * interval };
};

/**
 * Rate limit: a bucket of `limit` starts refilled at `limit` per `period`: `limit` may go at once, then
 * one per `period / limit`; a start over it is skipped (and takes nothing from the bucket).
 */
export const rateLimitGcra = (r: { limit: number; period_ms: number }): Gcra => {
  const interval = Math.ceil(r.period_ms / r.limit);
  return { interval_ms: interval, tolerance_ms: (r.limit - 1) * interval };
};

/** When a throttled start may go (`start_at`, now or later) and the key's new `tat`. `tat` null: the key's first start. */
export function throttleSlot(tat: number | null, now: number, g: Gcra): { start_at: number; tat: number } {
  const prev = tat ?? 0;
  return { start_at: Math.max(now, prev - g.tolerance_ms), tat: Math.max(prev, now) + g.interval_ms };
}

/** Whether a rate-limited start may go now, and the key's `tat` after it (unchanged when it may not). */
export function rateLimitVerdict(tat: number | null, now: number, g: Gcra): { allowed: boolean; tat: number | null } {
  const base = Math.max(tat ?? 0, now);
  if (base - now > g.tolerance_ms) return { allowed: false, tat };
  return { allowed: true, tat: base + g.interval_ms };
}

/** The next start a throttled key would be given now (the queue view's "next throttle slot"). */
export const nextThrottleSlot = (tat: number | null, now: number, g: Gcra): number => throttleSlot(tat, now, g).start_at;
