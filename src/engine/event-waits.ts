import type { TriggerEvent } from "../schemas/events";
import { evaluateSimpleConditions } from "./conditions";
import { lookupPath } from "./execution/context";
import { executionTriggerEvent } from "./trigger-match";
import type { WaitSpecState } from "./execution/types";

/**
 * What a wait_for_event action waits for, and how an event is recognised (docs/flow-control.md). Pure: the
 * D1 index (store/event-waits.ts) finds candidate waits by (event name, match key); this decides.
 */

/**
 * The name a wait names an event by: a custom event's or a trigger-event action's `name`, else the event's
 * type (`entity_operation`, `webhook`, `api_submission`, `activity`, …).
 */
export function eventNameOf(event: TriggerEvent): string {
  return event.type === "event" ? event.event_name : event.type;
}

/** The event as a wait sees it (its output `{event}` and the root of `event_path` and `if`): the trigger event of an execution, with its name. */
export function waitableEvent(event: TriggerEvent): Record<string, unknown> {
  return { ...executionTriggerEvent(event), name: eventNameOf(event) };
}

/**
 * A value as the index compares it: text as is, numbers and booleans as their text, anything else (objects,
 * arrays) as JSON; null and absent values match nothing. SQL does the same in store/event-waits.ts.
 */
export function matchText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The index key of a spec: `<event_path>=<value>`, or "" for a wait on every event of the name. */
export function specMatchKey(spec: WaitSpecState): string {
  return spec.correlate ? `${spec.correlate.event_path}=${spec.correlate.value}` : "";
}

/** When the event was accepted (its `at`), in ms; null when it carries no readable time. */
function eventTime(event: Record<string, unknown>): number | null {
  const at = typeof event.at === "string" ? Date.parse(event.at) : NaN;
  return Number.isFinite(at) ? at : null;
}

/**
 * Whether `event` satisfies `spec` for a wait that accepts events from `since` on: the same name, the
 * correlated value equal, every `if` condition true (fields are paths into the event).
 */
export function specAccepts(spec: WaitSpecState, event: Record<string, unknown>, since: number): boolean {
  if (event.name !== spec.event) return false;
  const at = eventTime(event);
  if (at !== null && at < since) return false;
  if (spec.correlate && matchText(lookupPath(event, spec.correlate.event_path)) !== spec.correlate.value) return false;
  if (spec.if?.length) {
    const conditions = (spec.if as Parameters<typeof evaluateSimpleConditions>[0]).map((c) => ({
      ...c,
      field: eventField(c.field),
    }));
    if (!evaluateSimpleConditions(conditions, { trigger: event }).passed) return false;
  }
  return true;
}

/**
 * An `if` field is a path into the event (`payload.amount`, `entity.status`; a leading `event.` is allowed):
 * read under the `trigger` root, so an event's own `entity` or `diff` is never taken for the execution's.
 */
const eventField = (field: string): string => `trigger.${field.startsWith("event.") ? field.slice(6) : field}`;
