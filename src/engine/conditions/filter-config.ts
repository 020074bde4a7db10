import type { FilterConfig } from "../../schemas/conditions";
import { type Pattern, matchLeaf, matchObject } from "./eventbridge";
import { PatternValidator } from "./pattern-validation";
import type { ConditionResult, EntityOperationEvent, StatementResult, ValidationIssue } from "./types";

/**
 * epilot entity_operation `filter_config`, as in the document:
 * `{ operation?: { operation?: [patterns], payload?: {patterns}, diff?: {added?, updated?, deleted?} | {$or: [...]} },
 *    activity?: { type?: [patterns] } }`
 * plus shorthands: top-level `entity` (= operation.payload), `diff` (= operation.diff) and `$or` (a list of
 * filter_configs, one of which must match). Every present part must match; an empty filter matches every event.
 *
 * The diff is matched against `{added, updated, deleted}` where `added` holds the new values of added attributes and
 * `updated` / `deleted` hold the values BEFORE the event (taken from `previous` when known): the document's example
 * "status changes from open_for_acceptance to placed" puts the new value under `payload` and the old one under
 * `diff.updated`.
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const TOP_KEYS = ["operation", "activity", "entity", "diff", "$or"];
const OPERATION_KEYS = ["operation", "payload", "diff"];
const DIFF_PARTS = ["added", "updated", "deleted"];

/** Every grammar problem of a filter_config, with dotted paths (empty list = valid). */
export function validateFilterConfig(filter: unknown): ValidationIssue[] {
  const v = new PatternValidator();
  validateInto(v, filter, "", 0);
  return v.issues;
}

function validateInto(v: PatternValidator, filter: unknown, prefix: string, depth: number): void {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (!isObject(filter)) return v.add(prefix, "filter_config must be an object");
  for (const [key, value] of Object.entries(filter)) {
    if (!TOP_KEYS.includes(key)) {
      v.add(at(key), `unknown key (expected ${TOP_KEYS.join(", ")})`);
      continue;
    }
    if (key === "operation") {
      if (!isObject(value)) {
        v.add(at(key), "must be an object with operation, payload and/or diff");
        continue;
      }
      for (const [k, sub] of Object.entries(value)) {
        const p = `${at(key)}.${k}`;
        if (k === "operation") {
          if (Array.isArray(sub)) v.leafList(sub, p);
          else v.add(p, 'must be a list, e.g. ["updateEntity"]');
        } else if (k === "payload") v.object(sub, p);
        else if (k === "diff") validateDiff(v, sub, p);
        else v.add(p, `unknown key (expected ${OPERATION_KEYS.join(", ")})`);
      }
    } else if (key === "activity") {
      if (!isObject(value)) {
        v.add(at(key), "must be an object with `type`");
        continue;
      }
      for (const [k, sub] of Object.entries(value)) {
        const p = `${at(key)}.${k}`;
        if (k !== "type") v.add(p, "unknown key (expected type)");
        else if (!Array.isArray(sub)) v.add(p, 'must be a list, e.g. ["EntityUpdatedFromPortal"]');
        else v.leafList(sub, p);
      }
    } else if (key === "entity") {
      v.object(value, at(key));
    } else if (key === "diff") {
      validateDiff(v, value, at(key));
    } else if (!Array.isArray(value) || value.length === 0) {
      v.add(at(key), "$or must be a non-empty list of filter_configs");
    } else if (depth >= 4) {
      v.add(at(key), "$or of filter_configs may be nested at most 4 levels");
    } else {
      value.forEach((sub, i) => validateInto(v, sub, `${at(key)}.${i}`, depth + 1));
    }
  }
}

/** A diff pattern: keys `added` / `updated` / `deleted` (or dotted `updated.x`), possibly under `$or`. */
function validateDiff(v: PatternValidator, diff: unknown, path: string): void {
  v.object(diff, path);
  const check = (o: unknown, p: string) => {
    if (!isObject(o)) return;
    for (const [k, sub] of Object.entries(o)) {
      if (k === "$or") {
        if (Array.isArray(sub)) sub.forEach((b, i) => check(b, `${p}.$or.${i}`));
      } else if (!DIFF_PARTS.includes(k.split(".")[0])) {
        v.add(`${p}.${k}`, "diff keys start with added, updated or deleted");
      }
    }
  };
  check(diff, path);
}

const validity = new WeakMap<object, ValidationIssue[]>();

/** The filter's issues, remembered per filter object (the matcher sees the same flow many times). */
function cachedIssues(filter: FilterConfig): ValidationIssue[] {
  if (!isObject(filter)) return validateFilterConfig(filter);
  let issues = validity.get(filter);
  if (!issues) {
    issues = validateFilterConfig(filter);
    validity.set(filter, issues);
  }
  return issues;
}

const hasOwn = (o: unknown, k: string) => isObject(o) && Object.prototype.hasOwnProperty.call(o, k);

/** `{added, updated, deleted}` as the filter sees it: old values for updated/deleted attributes when known. */
export function diffView(event: EntityOperationEvent): Record<string, Record<string, unknown>> {
  const diff = event.diff ?? {};
  const before = (part: Record<string, unknown> | undefined) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(part ?? {})) {
      Object.defineProperty(out, k, {
        value: hasOwn(event.previous, k) ? event.previous?.[k] : part?.[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return { added: diff.added ?? {}, updated: before(diff.updated), deleted: before(diff.deleted) };
}

/** Matches an entity operation event against a filter_config; an invalid filter matches nothing. */
export function matchFilterConfig(filter: FilterConfig, event: EntityOperationEvent): ConditionResult {
  const issues = cachedIssues(filter);
  if (issues.length > 0) {
    const first = issues[0];
    return {
      passed: false,
      statements: [
        { field: first.path, operator: "filter_config", value: null, actual_value: null, passed: false, error: first.message },
      ],
    };
  }
  const statements: StatementResult[] = [];
  const passed = matchInto(filter, event, statements);
  return { passed, statements };
}

function matchInto(filter: FilterConfig, event: EntityOperationEvent, out: StatementResult[]): boolean {
  let all = true;
  const op = isObject(filter.operation) ? filter.operation : {};
  if (Array.isArray(op.operation)) {
    all =
      matchLeaf(op.operation, { found: event.operation !== undefined, value: event.operation }, "operation.operation", out) &&
      all;
  }
  const payloads: [unknown, string][] = [
    [op.payload, "operation.payload"],
    [filter.entity, "entity"],
  ];
  for (const [pattern, path] of payloads) {
    if (isObject(pattern)) all = matchObject(pattern as Pattern, event.entity ?? {}, path, out) && all;
  }
  const diffs: [unknown, string][] = [
    [op.diff, "operation.diff"],
    [filter.diff, "diff"],
  ];
  for (const [pattern, path] of diffs) {
    if (isObject(pattern)) all = matchObject(pattern as Pattern, diffView(event), path, out) && all;
  }
  const activity = isObject(filter.activity) ? filter.activity : {};
  if (Array.isArray(activity.type)) {
    const type = event.activity?.type;
    all = matchLeaf(activity.type, { found: type !== undefined, value: type }, "activity.type", out) && all;
  }
  if (Array.isArray(filter.$or)) {
    const results = filter.$or.map((sub) => isObject(sub) && matchInto(sub, event, out));
    all = results.some(Boolean) && all;
  }
  return all;
}
