import { VALUE_OPERATORS } from "../../schemas/conditions";
import { type CompareResult, type ValueKind, isEmptyValue, scalarCompare, scalarEquals, textMatch } from "./compare";

export { VALUE_OPERATORS };
export type ValueOperator = (typeof VALUE_OPERATORS)[number];

type Positive = "equals" | "any_of" | "contains" | "starts_with" | "ends_with" | "is_empty" | Ordering;
type Ordering = "greater_than" | "less_than" | "greater_than_or_equals" | "less_than_or_equals";

const NEGATIONS: Partial<Record<ValueOperator, Positive>> = {
  not_equals: "equals",
  none_of: "any_of",
  not_contains: "contains",
  is_not_empty: "is_empty",
};

export interface OperatorInput {
  op: ValueOperator;
  /** undefined = the attribute is missing. */
  actual: unknown;
  /** Alternatives: a positive operator passes when it holds for any of them. */
  expected: unknown[];
  kind: ValueKind;
  /** Equality of text ignores case (e.g. e-mail addresses). Text search operators always ignore case. */
  caseInsensitive: boolean;
  /**
   * How a list value is judged. `list` (default): equals compares the list with `expected` as a set, contains asks
   * whether the list has one of the values, other operators pass when some item passes. `every`: the operator is
   * applied to each item and every item must pass (an empty list fails).
   */
  listMode: "list" | "every";
  /** Turns a list item or object value into the scalar that is compared (e.g. `{email: "a@b"}` → "a@b"). */
  scalarize: (v: unknown) => unknown;
}

export interface OperatorOutcome {
  passed: boolean;
  error?: string;
}

/**
 * Applies an operator. A negated operator is the negation of its positive form, except in `every` mode where the
 * negated operator itself must hold for every item (`not_contains` + every = no item contains the value).
 */
export function applyOperator(input: OperatorInput): OperatorOutcome {
  const positive = NEGATIONS[input.op];
  const actual = unwrapRelation(input.actual);
  const wholeValue = input.op === "is_empty" || input.op === "is_not_empty";
  if (input.listMode === "every" && Array.isArray(actual) && !wholeValue) {
    if (actual.length === 0) return { passed: false, error: "the list is empty" };
    const op = positive ?? (input.op as Positive);
    let error: string | undefined;
    for (const item of actual) {
      const r = scalarOp(input.scalarize(item), input, op);
      error ??= r.error;
      if (positive ? r.passed : !r.passed) return { passed: false, error };
    }
    return { passed: true, error };
  }
  if (positive) {
    const r = applyPositive(input, positive);
    return { passed: !r.passed, error: r.error };
  }
  return applyPositive(input, input.op as Positive);
}

/** `{ $relation: [...] }` (epilot relation attribute) is read as its list of related items. */
const unwrapRelation = (v: unknown): unknown => {
  if (v && typeof v === "object" && !Array.isArray(v) && Array.isArray((v as Record<string, unknown>).$relation)) {
    return (v as Record<string, unknown>).$relation;
  }
  return v;
};

function applyPositive(input: OperatorInput, op: Positive): OperatorOutcome {
  const actual = unwrapRelation(input.actual);
  if (op === "is_empty") {
    if (Array.isArray(actual) && actual.length > 0) return { passed: actual.every((i) => isEmptyValue(input.scalarize(i))) };
    return { passed: isEmptyValue(actual) };
  }
  if (actual === undefined || actual === null) {
    // `equals null` (Coherence) matches a missing or null value; every other comparison needs a value.
    return { passed: op === "equals" && input.expected.some((e) => e === null) };
  }
  if (Array.isArray(actual)) {
    const items = actual.map(input.scalarize);
    if (op === "equals") return setEquals(items, input);
    if (op === "contains") return anyItem(items, input, "any_of");
    return anyItem(items, input, op);
  }
  return scalarOp(input.scalarize(actual), input, op);
}

function anyItem(items: unknown[], input: OperatorInput, op: Positive): OperatorOutcome {
  let error: string | undefined;
  for (const item of items) {
    const r = scalarOp(item, input, op);
    if (r.passed) return { passed: true };
    error ??= r.error;
  }
  return { passed: false, error };
}

/** Each item equals one of the values and each value equals one of the items (order and duplicates ignored). */
function setEquals(items: unknown[], input: OperatorInput): OperatorOutcome {
  const eq = (a: unknown, b: unknown) => scalarEquals(a, b, input.kind, input.caseInsensitive).order === 0;
  const expected = input.expected.filter((e) => e !== null);
  const passed = items.every((i) => expected.some((e) => eq(i, e))) && expected.every((e) => items.some((i) => eq(i, e)));
  return { passed };
}

/** A scalar against the alternatives: passes when one of them satisfies the operator. */
function scalarOp(actual: unknown, input: OperatorInput, op: Positive): OperatorOutcome {
  if (op === "is_empty") return { passed: isEmptyValue(actual) };
  if (actual === undefined || actual === null) return { passed: op === "equals" && input.expected.some((e) => e === null) };
  let error: string | undefined;
  for (const expected of input.expected) {
    if (expected === null || expected === undefined) continue;
    const r = compareOne(actual, expected, input, op);
    if (r.order === null) {
      error ??= r.error;
      continue;
    }
    if (holds(op, r.order)) return { passed: true };
  }
  if (input.expected.length === 0) error ??= `"${op}" needs a value to compare with`;
  return { passed: false, error };
}

function compareOne(actual: unknown, expected: unknown, input: OperatorInput, op: Positive): CompareResult {
  switch (op) {
    case "equals":
    case "any_of":
      return scalarEquals(actual, expected, input.kind, input.caseInsensitive);
    case "contains":
    case "starts_with":
    case "ends_with":
      return textMatch(actual, expected, op);
    default:
      return scalarCompare(actual, expected, input.kind);
  }
}

function holds(op: Positive, order: number): boolean {
  switch (op) {
    case "greater_than":
      return order > 0;
    case "less_than":
      return order < 0;
    case "greater_than_or_equals":
      return order >= 0;
    case "less_than_or_equals":
      return order <= 0;
    default:
      return order === 0;
  }
}
