import type { SimpleCondition } from "../../schemas/conditions";
import { type ValueKind, deepEqual, scalarEquals } from "./compare";
import { VALUE_OPERATORS, applyOperator, type ValueOperator } from "./operators";
import { type Lookup, PathSyntaxError, lookup, parsePath } from "./paths";
import { scalarizer } from "./statements";
import { type ConditionResult, type EvaluationContext, type StatementResult, reported } from "./types";

/**
 * Coherence conditions `{field, operator, value}`. `field` is a path into the record, unless its first segment names
 * another part of the context: `record.` / `entity.`, `previous.`, `trigger.`, `actions.`, `loop.`, `variables.`,
 * `user.`, `diff.`.
 */
const ROOTS = ["record", "entity", "previous", "trigger", "actions", "loop", "variables", "user", "diff"] as const;
type Root = (typeof ROOTS)[number];

function rootValue(ctx: EvaluationContext, root: Root): unknown {
  switch (root) {
    case "record":
    case "entity":
      return ctx.entity ?? undefined;
    default:
      return ctx[root];
  }
}

interface Target {
  /** Path relative to the record when the field is a record field (needed by `changed*`). */
  recordPath: (string | number)[] | null;
  current: Lookup;
}

const MISSING: Lookup = { found: false, value: undefined };
const hasOwn = (o: unknown, k: string) => !!o && typeof o === "object" && Object.prototype.hasOwnProperty.call(o, k);

function resolveField(field: string, ctx: EvaluationContext): Target {
  const segments = parsePath(field);
  const first = segments[0];
  if (typeof first === "string" && (ROOTS as readonly string[]).includes(first)) {
    const root = first as Root;
    const rest = segments.slice(1);
    const recordPath = root === "record" || root === "entity" ? rest : null;
    const base = rootValue(ctx, root);
    if (base === undefined || base === null) return { recordPath, current: MISSING };
    return { recordPath, current: rest.length === 0 ? { found: true, value: base } : lookup(base, rest) };
  }
  const entity = ctx.entity;
  return { recordPath: segments, current: entity ? lookup(entity, segments) : MISSING };
}

/** The value's JS type decides the comparison: numbers numerically, booleans as booleans, text as text or dates. */
function kindFromValue(value: unknown): ValueKind {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === "number") return "number";
  if (typeof first === "boolean") return "boolean";
  return "auto";
}

export function evaluateSimpleCondition(cond: SimpleCondition, ctx: EvaluationContext): StatementResult {
  const base = { ...(cond.id ? { id: cond.id } : {}), field: cond.field, operator: cond.operator, value: reported(cond.value) };
  let target: Target;
  try {
    target = resolveField(cond.field, ctx);
  } catch (e) {
    const message = e instanceof PathSyntaxError ? e.message : String(e);
    return { ...base, actual_value: null, passed: false, error: message };
  }
  const actual = target.current.found ? target.current.value : undefined;

  if (cond.operator === "changed" || cond.operator === "changed_to" || cond.operator === "changed_from") {
    return evaluateChange(cond, ctx, target, base, actual);
  }
  if (!(VALUE_OPERATORS as readonly string[]).includes(cond.operator)) {
    return { ...base, actual_value: reported(actual), passed: false, error: `unknown operator "${String(cond.operator)}"` };
  }
  const expected = cond.value === undefined ? [] : Array.isArray(cond.value) ? cond.value : [cond.value];
  const outcome = applyOperator({
    op: cond.operator as ValueOperator,
    actual,
    expected,
    kind: kindFromValue(cond.value),
    caseInsensitive: false,
    listMode: "list",
    scalarize: scalarizer(undefined),
  });
  return { ...base, actual_value: reported(actual), passed: outcome.passed, ...(outcome.error ? { error: outcome.error } : {}) };
}

/**
 * `changed`: the event changed the record field. With a diff, the diff decides which top-level attributes changed
 * (and `previous` the old value); without one, the field is compared with `previous`; with neither nothing changed.
 * `changed_to` / `changed_from`: changed, and the new / old value equals `value`.
 */
function evaluateChange(
  cond: SimpleCondition,
  ctx: EvaluationContext,
  target: Target,
  base: Omit<StatementResult, "actual_value" | "passed">,
  actual: unknown,
): StatementResult {
  if (!target.recordPath) {
    return { ...base, actual_value: reported(actual), passed: false, error: `"${cond.operator}" applies to record fields only` };
  }
  const path = target.recordPath;
  let changed = false;
  let before: unknown = actual;
  const prev = ctx.previous ? lookup(ctx.previous, path) : MISSING;
  if (ctx.diff) {
    // The diff names the top-level attributes this event touched; `previous` (when given) refines nested fields.
    const top = String(path[0]);
    const touched = (["added", "updated", "deleted"] as const).some((p) => hasOwn(ctx.diff?.[p], top));
    if (touched) {
      before = prev.found ? prev.value : undefined;
      changed = prev.found ? !deepEqual(before ?? null, actual ?? null) : true;
    }
  } else if (ctx.previous) {
    // Without a diff, `previous` is the full prior snapshot: a field missing there was missing before.
    before = prev.found ? prev.value : undefined;
    changed = !deepEqual(before ?? null, actual ?? null);
  }
  let passed = changed;
  let error: string | undefined;
  if (changed && cond.operator !== "changed") {
    const side = cond.operator === "changed_to" ? actual : before;
    const r = sideEquals(side, cond.value);
    passed = r.passed;
    error = r.error;
  }
  return {
    ...base,
    actual_value: reported(actual),
    previous_value: reported(before),
    passed,
    ...(error ? { error } : {}),
  };
}

function sideEquals(side: unknown, value: unknown): { passed: boolean; error?: string } {
  if (value === null || value === undefined) return { passed: side === null || side === undefined };
  if (side === null || side === undefined) return { passed: false };
  if (typeof value === "object" || typeof side === "object") return { passed: deepEqual(side, value) };
  const r = scalarEquals(side, value, kindFromValue(value), false);
  return { passed: r.order === 0, error: r.error };
}

/** Every condition must pass (AND); all are evaluated for the explanation. */
export function evaluateSimpleConditions(conds: SimpleCondition[], ctx: EvaluationContext): ConditionResult {
  const statements = conds.map((c) => evaluateSimpleCondition(c, ctx));
  return { passed: statements.every((s) => s.passed), statements };
}
