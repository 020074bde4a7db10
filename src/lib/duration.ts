/**
 * Durations of flow control and event waits: a whole number and a unit, `"30s"`, `"5m"`, `"2h"`, `"7d"`
 * (also `"500ms"` and `"1w"`). One syntax everywhere a duration is written (docs/flow-control.md).
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;

/** The example the error messages show. */
export const DURATION_HINT = 'a whole number and a unit (ms, s, m, h, d, w), e.g. "30s", "5m", "2h", "7d"';

/** Milliseconds of a duration string, or null when it is not one (`"1.5h"`, `"5 min"`, `"-3s"`, `""`). */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Milliseconds of a duration already validated by a schema (throws on anything else: a bug, not bad input). */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new TypeError(`Not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** The shortest exact form of a number of milliseconds (`90_000` → `"90s"`, `7_200_000` → `"2h"`). */
export function formatDuration(ms: number): string {
  for (const unit of ["w", "d", "h", "m", "s"] as const) {
    if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
