import type { TriggerCondition } from "../../schemas/conditions";
import { isEmptyValue, toNumber } from "./compare";
import { type Lookup, PathSyntaxError, lookup } from "./paths";
import { type ConditionResult, type StatementResult, reported } from "./types";

/**
 * epilot TriggerCondition: `source` is a dotted/indexed path into the trigger event; when the event does not have it,
 * the event's `entity` is tried (so `billing_contact.email` works on entity events). Comparison is exact for text
 * (case and whitespace matter); a number and a numeric string are equal when their numbers are (5 = "5" = "5.0").
 * A list value matches when one of its items does.
 */
function resolve(event: unknown, source: string): Lookup {
  const direct = lookup(event, source);
  if (direct.found) return direct;
  const entity = event && typeof event === "object" ? (event as Record<string, unknown>).entity : undefined;
  if (entity && typeof entity === "object") return lookup(entity, source);
  return direct;
}

function sameValue(actual: unknown, expected: string | number): boolean {
  if (typeof actual === "string" && typeof expected === "string") return actual === expected;
  if (typeof actual === "number" || typeof expected === "number") {
    if (typeof actual !== "number" && typeof actual !== "string") return false;
    const a = toNumber(actual);
    const e = toNumber(expected);
    return a !== null && e !== null && a === e;
  }
  if (typeof actual === "boolean") return String(actual) === expected;
  return false;
}

const itemsOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

export function evaluateTriggerCondition(cond: TriggerCondition, event: unknown): StatementResult {
  const base = { field: cond.source, operator: cond.comparison, value: reported(cond.value) };
  let found: Lookup;
  try {
    found = resolve(event, cond.source);
  } catch (e) {
    return { ...base, actual_value: null, passed: false, error: e instanceof PathSyntaxError ? e.message : String(e) };
  }
  const actual = found.found ? found.value : undefined;
  const expected = cond.value === undefined ? [] : itemsOf(cond.value);
  let passed: boolean;
  let error: string | undefined;
  switch (cond.comparison) {
    case "is_empty":
      passed = isEmptyValue(actual);
      break;
    case "not_empty":
    case "exists":
      passed = !isEmptyValue(actual);
      break;
    case "equals":
    case "any_of":
      if (expected.length === 0) error = `"${cond.comparison}" needs a value`;
      passed =
        actual !== undefined &&
        actual !== null &&
        itemsOf(actual).some((a) => expected.some((e) => sameValue(a, e as string | number)));
      break;
    default:
      // A stored document that bypassed validation: never pass silently.
      passed = false;
      error = `unknown comparison "${String(cond.comparison)}"`;
  }
  return { ...base, actual_value: reported(actual), passed, ...(error ? { error } : {}) };
}

/** All conditions must pass (AND). */
export function evaluateTriggerConditions(conds: TriggerCondition[], event: unknown): ConditionResult {
  const statements = conds.map((c) => evaluateTriggerCondition(c, event));
  return { passed: statements.every((s) => s.passed), statements };
}
