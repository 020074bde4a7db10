import { z } from "@hono/zod-openapi";

/**
 * Condition vocabularies, shaped as in the epilot Automation API document (ConditionStatement,
 * ActionCondition, TriggerCondition, entity-operation filter_config) plus Coherence's simple
 * `{field, operator, value}` conditions. Shared by the flow schema and the expression layer.
 */

/** Value operators shared by epilot statements and Coherence conditions. */
export const VALUE_OPERATORS = [
  "equals",
  "not_equals",
  "any_of",
  "none_of",
  "contains",
  "not_contains",
  "starts_with",
  "ends_with",
  "greater_than",
  "less_than",
  "greater_than_or_equals",
  "less_than_or_equals",
  "is_empty",
  "is_not_empty",
] as const;

/** The statement operations: the value operators, plus the two about the entity itself. */
export const STATEMENT_OPERATIONS = [...VALUE_OPERATORS, "entity_exists", "entity_does_not_exist"] as const;

export const ATTRIBUTE_TYPES = [
  "string",
  "text",
  "number",
  "boolean",
  "date",
  "datetime",
  "tags",
  "country",
  "email",
  "phone",
  "product",
  "price",
  "status",
  "relation",
  "multiselect",
  "select",
  "radio",
  "relation_user",
  "purpose",
  "label",
  "payment",
  "relation_payment_method",
] as const;

export const ConditionStatementSchema = z
  .object({
    id: z.string().max(200).optional(),
    source: z
      .object({
        id: z.string().max(200).optional(),
        origin: z.enum(["trigger", "action"]).optional(),
        originType: z.enum(["entity", "workflow", "journey_block"]).optional(),
        schema: z.string().max(200).optional(),
        attribute: z.string().max(500).optional(),
        attributeType: z.enum(ATTRIBUTE_TYPES).optional(),
        attributeRepeatable: z.boolean().optional(),
        repeatableItemOp: z.boolean().optional(),
        attributeOperation: z.enum(["all", "updated", "added", "deleted"]).optional(),
      })
      .optional(),
    operation: z.enum(STATEMENT_OPERATIONS),
    values: z.array(z.string()).max(1000).optional(),
  })
  .openapi("ConditionStatement");
export type ConditionStatement = z.infer<typeof ConditionStatementSchema>;

export const COHERENCE_OPERATORS = [
  "equals",
  "not_equals",
  "contains",
  "not_contains",
  "starts_with",
  "ends_with",
  "greater_than",
  "less_than",
  "is_empty",
  "is_not_empty",
  "changed",
  "changed_to",
  "changed_from",
] as const;

/** Coherence's condition: a dotted `field` of the record (or `previous.x`, `trigger.x` ...), an operator and a value. */
export const SimpleConditionSchema = z
  .object({
    id: z.string().max(200).optional(),
    field: z.string().min(1).max(500),
    operator: z.enum(COHERENCE_OPERATORS),
    value: z.unknown().optional(),
  })
  .openapi("SimpleCondition");
export type SimpleCondition = z.infer<typeof SimpleConditionSchema>;

/**
 * epilot's ActionCondition. `statements` are combined with AND (every statement must pass).
 * `evaluation_order` says whether a condition tied to a schedule is checked before or after the wait.
 */
export const ActionConditionSchema = z
  .object({
    id: z.string().max(200).optional(),
    schedule_id: z.string().max(200).optional(),
    evaluation_order: z.enum(["AFTER_SCHEDULE", "BEFORE_SCHEDULE"]).optional(),
    evaluationResult: z.boolean().optional(),
    allow_failure: z.boolean().optional(),
    statements: z.array(ConditionStatementSchema).max(100).optional(),
  })
  .openapi("ActionCondition");
export type ActionCondition = z.infer<typeof ActionConditionSchema>;

/** A flow's `conditions[]` item: an epilot ActionCondition or a Coherence simple condition. */
export const FlowConditionSchema = z.union([SimpleConditionSchema, ActionConditionSchema]).openapi("FlowCondition");
export type FlowCondition = z.infer<typeof FlowConditionSchema>;

/** The document's enum, plus `exists` (an alias of `not_empty`) because the document's own TriggerCondition example uses it. */
export const TRIGGER_COMPARISONS = ["equals", "any_of", "not_empty", "is_empty", "exists"] as const;

/** epilot's TriggerCondition: `source` is a dotted/indexed path into the trigger event. */
export const TriggerConditionSchema = z
  .object({
    source: z.string().min(1).max(500),
    comparison: z.enum(TRIGGER_COMPARISONS),
    value: z.union([z.string(), z.number(), z.array(z.string()), z.array(z.number())]).optional(),
  })
  .openapi("TriggerCondition");
export type TriggerCondition = z.infer<typeof TriggerConditionSchema>;

/**
 * EventBridge-style filter of an entity_operation trigger: `{ "<attribute>": [pattern, ...], "$or": [filter, ...] }`
 * where a pattern is a literal (string, number, boolean, null) or one of the documented operator objects.
 * Its full grammar is checked by the expression layer; here it is a JSON object of bounded size.
 */
export const FilterConfigSchema = z.record(z.string(), z.unknown()).openapi("FilterConfig");
export type FilterConfig = z.infer<typeof FilterConfigSchema>;
