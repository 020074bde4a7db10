/**
 * Strict ISO-8601 parsing shared by conditions and template filters. `Date.parse` is not used because it reads
 * offset-less date-times in the host's local zone; here a date-time without an offset is UTC, always.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export const DAY_MS = 86_400_000;

export interface ParsedInstant {
  ms: number;
  /** The input was a calendar date without a time (`2024-01-15`). */
  dateOnly: boolean;
}

/** Parses an ISO-8601 date or date-time string; null when it is not one or names an impossible date. */
export function parseIsoString(input: string): ParsedInstant | null {
  const m = ISO.exec(input.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2024-02-30 over to March: reject instead.
  if (new Date(t).getUTCDate() !== day) return null;
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return null;
    t -= sign * (offH * 60 + offM) * 60_000;
  }
  return { ms: t, dateOnly: h === undefined };
}

/** An instant from an ISO string, epoch milliseconds or a Date; null otherwise. */
export function toInstant(value: unknown): ParsedInstant | null {
  if (typeof value === "number") return Number.isFinite(value) ? { ms: value, dateOnly: false } : null;
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? { ms: value.getTime(), dateOnly: false } : null;
  if (typeof value === "string") return parseIsoString(value);
  return null;
}

/** `2024-01-15` of an instant, in UTC. */
export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
