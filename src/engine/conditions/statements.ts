import type { ActionCondition, ConditionStatement } from "../../schemas/conditions";
import { type ValueKind, deepEqual, isEmptyValue } from "./compare";
import { VALUE_OPERATORS, applyOperator, type ValueOperator } from "./operators";
import { type Lookup, lookup, parsePath } from "./paths";
import { type ConditionResult, type EvaluationContext, type StatementResult, reported } from "./types";

type Source = NonNullable<ConditionStatement["source"]>;
type AttributeType = NonNullable<Source["attributeType"]>;

/** How each epilot attribute type compares (see docs/expressions.md). */
function kindOf(type: AttributeType | undefined): ValueKind {
  switch (type) {
    case "number":
    case "price":
      return "number";
    case "date":
      return "date";
    case "datetime":
      return "datetime";
    case "boolean":
      return "boolean";
    case undefined:
      return "auto";
    default:
      return "string";
  }
}

/** Keys that hold the comparable value of an object item, per attribute type (epilot stores e-mails as `{email}` ...). */
const ITEM_KEYS: Partial<Record<AttributeType, string[]>> = {
  email: ["email", "address", "value"],
  phone: ["phone", "number", "value"],
  relation: ["entity_id", "_id", "id"],
  relation_user: ["user_id", "id", "email"],
  relation_payment_method: ["payment_method_id", "entity_id", "_id", "id", "type"],
  price: ["amount", "unit_amount", "value", "price"],
  product: ["_id", "entity_id", "id", "name"],
  payment: ["type", "value"],
};
const DEFAULT_ITEM_KEYS = ["value", "_id", "id", "entity_id", "email", "phone", "name", "title", "label", "type"];

export function scalarizer(type: AttributeType | undefined): (v: unknown) => unknown {
  const keys = (type && ITEM_KEYS[type]) ?? DEFAULT_ITEM_KEYS;
  return (v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    for (const k of keys) if (Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined) return o[k];
    return JSON.stringify(o);
  };
}

const MISSING: Lookup = { found: false, value: undefined };

function safeLookup(root: unknown, path: string): Lookup {
  if (root === undefined || root === null) return MISSING;
  try {
    return lookup(root, path);
  } catch {
    return MISSING;
  }
}

interface Resolved {
  field: string;
  current: Lookup;
  previous?: Lookup;
  error?: string;
}

/** Reads the statement's attribute from the trigger entity (then the trigger event) or an earlier action's outputs. */
function resolveSource(source: Source, ctx: EvaluationContext): Resolved {
  const attr = source.attribute;
  if (source.origin === "action") {
    const outputs = source.id ? ctx.actions?.[source.id]?.outputs : undefined;
    const field = `actions.${source.id ?? "?"}.outputs${attr ? `.${attr}` : ""}`;
    if (!source.id) return { field, current: MISSING, error: "source.id must name the action whose outputs are read" };
    return { field, current: attr ? safeLookup(outputs, attr) : { found: outputs !== undefined, value: outputs } };
  }
  const entity = ctx.entity ?? undefined;
  const schemaMismatch = !!(source.schema && entity && typeof entity._schema === "string" && entity._schema !== source.schema);
  const field = attr ?? source.schema ?? "entity";
  if (schemaMismatch)
    return { field, current: MISSING, error: `the trigger entity is a "${String(entity._schema)}", not a "${source.schema}"` };
  if (!attr) return { field, current: { found: !!entity, value: entity } };
  let current = safeLookup(entity, attr);
  if (!current.found) current = safeLookup(ctx.trigger, attr);
  return { field, current, previous: ctx.previous ? safeLookup(ctx.previous, attr) : undefined };
}

const hasOwn = (o: unknown, k: string) => !!o && typeof o === "object" && Object.prototype.hasOwnProperty.call(o, k);
const without = (items: unknown[], others: unknown[]) => items.filter((i) => !others.some((o) => deepEqual(i, o)));
const present = (l: Lookup) => l.found && l.value !== null && l.value !== undefined;

/**
 * The value an `attributeOperation` looks at: what this event added, updated or deleted. With a diff, the diff decides
 * which top-level attributes changed (`previous` gives old values); without one, `previous` is the full prior snapshot.
 */
function changeView(op: "added" | "updated" | "deleted", attr: string, r: Resolved, ctx: EvaluationContext): Lookup {
  const diff = ctx.diff;
  let top: string;
  try {
    top = String(parsePath(attr)[0]);
  } catch {
    return MISSING;
  }
  const touched = (part: "added" | "updated" | "deleted") => hasOwn(diff?.[part], top);
  if (diff ? !(touched("added") || touched("updated") || touched("deleted")) : !ctx.previous) return MISSING;
  const cur = r.current;
  const prev = r.previous ?? MISSING;
  const curList = Array.isArray(cur.value) ? cur.value : null;
  const prevList = Array.isArray(prev.value) ? prev.value : null;
  if (op !== "updated" && (curList || prevList)) {
    // Repeatable attribute: the items that appeared or disappeared.
    const items = op === "added" ? without(curList ?? [], prevList ?? []) : without(prevList ?? [], curList ?? []);
    return items.length > 0 ? { found: true, value: items } : MISSING;
  }
  switch (op) {
    case "added":
      if (diff) return touched("added") ? (cur.found ? cur : safeLookup(diff.added, attr)) : MISSING;
      return !present(prev) && present(cur) ? cur : MISSING;
    case "updated":
      if (diff) return touched("updated") ? (cur.found ? cur : safeLookup(diff.updated, attr)) : MISSING;
      return prev.found && cur.found && !deepEqual(prev.value, cur.value) ? cur : MISSING;
    case "deleted":
      if (diff) return touched("deleted") ? (prev.found ? prev : safeLookup(diff.deleted, attr)) : MISSING;
      return present(prev) && !present(cur) ? prev : MISSING;
  }
}

function entityExists(source: Source, r: Resolved, ctx: EvaluationContext): boolean {
  if (r.error) return false;
  if (source.attribute) return r.current.found && !isEmptyValue(r.current.value);
  if (source.origin === "action") return r.current.found && !isEmptyValue(r.current.value);
  return !!ctx.entity;
}

/** Evaluates one epilot ConditionStatement. Never throws: problems are reported in `error`. */
export function evaluateStatement(st: ConditionStatement, ctx: EvaluationContext): StatementResult {
  const source: Source = st.source ?? {};
  const values = st.values ?? [];
  const r = resolveSource(source, ctx);
  const base = { ...(st.id ? { id: st.id } : {}), field: r.field, operator: st.operation, value: values };

  if (st.operation === "entity_exists" || st.operation === "entity_does_not_exist") {
    const exists = entityExists(source, r, ctx);
    const actual = source.attribute || source.origin === "action" ? reported(r.current.value) : exists;
    return { ...base, actual_value: actual, passed: st.operation === "entity_exists" ? exists : !exists, ...err(r.error) };
  }

  if (!(VALUE_OPERATORS as readonly string[]).includes(st.operation)) {
    return {
      ...base,
      actual_value: reported(r.current.value),
      passed: false,
      error: `unknown operation "${String(st.operation)}"`,
    };
  }
  let view = r.current;
  const attrOp = source.attributeOperation;
  if (attrOp && attrOp !== "all" && source.origin !== "action" && source.attribute && !r.error) {
    view = changeView(attrOp, source.attribute, r, ctx);
  }
  const outcome = applyOperator({
    op: st.operation as ValueOperator,
    actual: view.found ? view.value : undefined,
    expected: values,
    kind: kindOf(source.attributeType),
    caseInsensitive: source.attributeType === "email" || source.attributeType === "country",
    listMode: source.repeatableItemOp ? "every" : "list",
    scalarize: scalarizer(source.attributeType),
  });
  const previous = r.previous?.found && attrOp && attrOp !== "all" ? { previous_value: reported(r.previous.value) } : {};
  return {
    ...base,
    actual_value: reported(view.found ? view.value : undefined),
    passed: outcome.passed,
    ...previous,
    ...err(r.error ?? outcome.error),
  };
}

const err = (e: string | undefined) => (e ? { error: e } : {});

/** All statements must pass (AND); a condition without statements passes. Every statement is evaluated for the explanation. */
export function evaluateActionCondition(cond: ActionCondition, ctx: EvaluationContext): ConditionResult {
  const statements = (cond.statements ?? []).map((s) => evaluateStatement(s, ctx));
  return { passed: statements.every((s) => s.passed), statements };
}
