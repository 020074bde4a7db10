import type { ExecutionData, ExecutionState, ScheduleDef } from "./types";
import { lookupPath } from "./context";

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 } as const;

/** Reads an instant from a number (ms), an ISO-8601 string, or a date-only `YYYY-MM-DD` (UTC midnight). */
export function toInstant(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== "string" || value.trim() === "") return null;
  const ms = Date.parse(value.trim());
  return Number.isNaN(ms) ? null : ms;
}

/** Adds whole calendar months in UTC, clamping to the last day of the target month (Jan 31 + 1 month = Feb 28/29). */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d.getTime();
}

/**
 * The instant a schedule is due: `numberOfUnits timePeriod after|before` a timestamp read from the trigger's
 * entity (or event), from an earlier action's outputs (or its finish time), or the execution's start.
 */
export function scheduleDueAt(
  schedule: ScheduleDef,
  state: ExecutionState,
  data: ExecutionData,
): { at: number } | { error: string } {
  const { source } = schedule;
  let base: number;
  if (source.origin === "trigger") {
    if (!source.attribute) base = state.created_at;
    else {
      const raw = lookupPath(state.entity ?? {}, source.attribute) ?? lookupPath(state.trigger_event, source.attribute);
      const at = toInstant(raw);
      if (at === null) return { error: `The trigger has no date at "${source.attribute}" to schedule from` };
      base = at;
    }
  } else if (source.origin === "action" || source.origin === "action_task") {
    const action = state.actions.find((a) => a.id === source.id);
    if (!action) return { error: `Schedule source action ${source.id} is not part of the flow` };
    if (source.attribute) {
      const at = toInstant(lookupPath(data.output(action.id) ?? {}, source.attribute));
      if (at === null) return { error: `Action ${source.id} has no date output "${source.attribute}" to schedule from` };
      base = at;
    } else {
      if (action.execution_status !== "success" || action.updated_at === undefined) {
        return { error: `Schedule source action ${source.id} has not finished` };
      }
      base = action.updated_at;
    }
  } else {
    base = state.created_at;
  }

  const units = schedule.numberOfUnits ?? 0;
  if (!Number.isFinite(units) || units < 0) return { error: "numberOfUnits must be a non-negative number" };
  const sign = schedule.timeRelation === "before" ? -1 : 1;
  const period = schedule.timePeriod ?? "minutes";
  const at = period === "months" ? addMonthsUtc(base, sign * Math.round(units)) : base + sign * units * UNIT_MS[period];
  return { at };
}
