import type { FlowCondition } from "../../schemas/conditions";
import { evaluateActionCondition } from "./statements";
import { evaluateSimpleConditions } from "./simple";
import type { ConditionResult, EvaluationContext } from "./types";

/**
 * The condition layer of the pure engine: no bindings, no I/O, no clock. Missing attributes never throw; they are
 * evaluated per operator and reported with `actual_value: null`. Semantics: docs/expressions.md.
 */
export type { ConditionResult, EntityOperationEvent, EvaluationContext } from "./types";
export { evaluateActionCondition, evaluateStatement } from "./statements";
export { evaluateSimpleCondition, evaluateSimpleConditions } from "./simple";
export { evaluateTriggerCondition, evaluateTriggerConditions } from "./trigger-conditions";
export { matchFilterConfig, validateFilterConfig } from "./filter-config";
export { PathSyntaxError, getPath, lookup, parsePath } from "./paths";

/** A flow's `conditions[]` item: a Coherence simple condition (`field` + `operator`) or an epilot ActionCondition. */
export function evaluateFlowCondition(cond: FlowCondition, ctx: EvaluationContext): ConditionResult {
  if ("field" in cond && "operator" in cond) return evaluateSimpleConditions([cond], ctx);
  return evaluateActionCondition(cond, ctx);
}
