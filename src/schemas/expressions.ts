import { z } from "@hono/zod-openapi";
import { PathSyntaxError, parsePath, validateFilterConfig } from "../engine/conditions";
import {
  ActionConditionSchema,
  ConditionStatementSchema,
  FilterConfigSchema,
  SimpleConditionSchema,
  TriggerConditionSchema,
} from "./conditions";

/** Request and response bodies of `conditions:test` and `templates:render`. */

const JsonObject = z.record(z.string(), z.unknown());

const Diff = z.strictObject({ added: JsonObject.optional(), updated: JsonObject.optional(), deleted: JsonObject.optional() });

const contextFields = {
  trigger: JsonObject.optional().openapi({ description: "The trigger event (`operation`, `activity`, `body`, ...)" }),
  entity: JsonObject.nullable().optional().openapi({ description: "The entity snapshot (record)" }),
  record: JsonObject.nullable().optional().openapi({ description: "Alias of `entity`" }),
  previous: JsonObject.optional().openapi({ description: "Attribute values before the update" }),
  diff: Diff.optional().openapi({ description: "Attributes the event added, updated or deleted" }),
  actions: z
    .record(z.string(), z.strictObject({ outputs: z.unknown().optional(), execution_status: z.string().max(50).optional() }))
    .optional()
    .openapi({ description: "Earlier actions by action id" }),
  loop: z.strictObject({ item: z.unknown(), index: z.number().int().min(0) }).optional(),
  variables: JsonObject.optional(),
  user: z.strictObject({ id: z.string().max(200).optional(), email: z.string().max(320).optional() }).optional(),
  now: z.iso.datetime({ offset: true }).optional().openapi({
    description: "The clock for `{{ now }}` (ISO-8601); defaults to the time of the request",
    example: "2024-01-15T10:00:00Z",
  }),
};

export const ExpressionContextSchema = z.strictObject(contextFields).openapi("ExpressionContext", {
  description: "What conditions and templates are evaluated against. Unknown keys are rejected.",
});
export type ExpressionContext = z.infer<typeof ExpressionContextSchema>;

export const CONDITION_KINDS = [
  "action_condition",
  "statement",
  "simple_condition",
  "simple_conditions",
  "trigger_condition",
  "trigger_conditions",
  "filter_config",
] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

const TriggerConditionsInput = z.strictObject({ trigger_conditions: z.array(TriggerConditionSchema).min(1).max(100) });
const FilterConfigInput = z.strictObject({ filter_config: FilterConfigSchema });

/** The schema that validates each kind, chosen by the key that tells the kinds apart. */
const KIND_SCHEMAS: Record<ConditionKind, z.ZodType> = {
  action_condition: ActionConditionSchema,
  statement: ConditionStatementSchema,
  simple_condition: SimpleConditionSchema,
  simple_conditions: z.array(SimpleConditionSchema).min(1).max(100),
  trigger_condition: TriggerConditionSchema,
  trigger_conditions: TriggerConditionsInput,
  filter_config: FilterConfigInput,
};

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Which vocabulary a `condition` uses, from its distinguishing key (see the operation's description). */
export function conditionKind(c: unknown): ConditionKind | null {
  if (Array.isArray(c)) return "simple_conditions";
  if (c === null || typeof c !== "object") return null;
  if (has(c, "trigger_conditions")) return "trigger_conditions";
  if (has(c, "filter_config")) return "filter_config";
  if (has(c, "statements")) return "action_condition";
  if (has(c, "operation")) return "statement";
  // epilot's TriggerCondition is `{source, comparison, value?}`: no other shape has `comparison`.
  if (has(c, "comparison")) return "trigger_condition";
  if (has(c, "field") || has(c, "operator")) return "simple_condition";
  return null;
}

type IssueSink = Pick<z.RefinementCtx, "addIssue">;

function checkPath(path: string, at: (string | number)[], ctx: IssueSink): void {
  try {
    parsePath(path);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: e instanceof PathSyntaxError ? e.message : String(e), path: at });
  }
}

/** Validates `condition` against the schema of its kind, plus path syntax and the filter_config grammar. */
function validateCondition(value: unknown, ctx: IssueSink): void {
  const kind = conditionKind(value);
  if (!kind) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message:
        "condition must be an ActionCondition (`statements`), a statement (`operation`), a TriggerCondition (`source`, " +
        "`comparison`), a simple condition (`field`, `operator`), a list of simple conditions, {trigger_conditions: [...]} " +
        "or {filter_config: {...}}",
    });
    return;
  }
  const parsed = KIND_SCHEMAS[kind].safeParse(value);
  if (!parsed.success) {
    // Re-raised as they are (code and message of the kind's schema), under `condition.`.
    for (const i of parsed.error.issues) ctx.addIssue({ ...i });
    return;
  }
  const data = parsed.data as Record<string, unknown> & unknown[];
  switch (kind) {
    case "simple_condition":
      return checkPath(String(data.field), ["field"], ctx);
    case "simple_conditions":
      return data.forEach((c, i) => checkPath(String((c as { field: string }).field), [i, "field"], ctx));
    case "statement":
    case "action_condition": {
      const statements = (kind === "statement" ? [data] : ((data.statements as unknown[]) ?? [])) as {
        source?: { attribute?: string };
      }[];
      statements.forEach((s, i) => {
        const attr = s.source?.attribute;
        if (attr !== undefined)
          checkPath(attr, kind === "statement" ? ["source", "attribute"] : ["statements", i, "source", "attribute"], ctx);
      });
      return;
    }
    case "trigger_condition":
      return checkPath(String(data.source), ["source"], ctx);
    case "trigger_conditions":
      return (data.trigger_conditions as { source: string }[]).forEach((c, i) =>
        checkPath(c.source, ["trigger_conditions", i, "source"], ctx),
      );
    case "filter_config":
      for (const issue of validateFilterConfig(data.filter_config)) {
        ctx.addIssue({
          code: "custom",
          message: issue.message,
          path: ["filter_config", ...(issue.path ? issue.path.split(".") : [])],
        });
      }
  }
}

/** Documentation of the accepted shapes (validation is `validateCondition`, which names the failing field). */
export const ConditionInputDoc = z
  .union([
    ActionConditionSchema,
    ConditionStatementSchema,
    SimpleConditionSchema,
    z.array(SimpleConditionSchema),
    TriggerConditionSchema,
    TriggerConditionsInput,
    FilterConfigInput,
  ])
  .openapi("ConditionTestInput", {
    description:
      "Told apart by key, in this order: an array → simple conditions (all must pass); `trigger_conditions` → epilot " +
      "TriggerConditions evaluated against `context.trigger`; `filter_config` → an entity_operation filter matched against " +
      "`{operation: trigger.operation, activity: trigger.activity, entity, diff, previous}`; `statements` → an epilot " +
      "ActionCondition; `operation` → one ConditionStatement; `comparison` → one epilot TriggerCondition (as if it were " +
      "`{trigger_conditions: [it]}`); `field`/`operator` → one Coherence condition.",
  });

export const ConditionTestRequest = z
  .strictObject({
    condition: z
      .unknown()
      .superRefine(validateCondition)
      .openapi({ description: "See ConditionTestInput", allOf: [{ $ref: "#/components/schemas/ConditionTestInput" }] }),
    context: ExpressionContextSchema.optional(),
  })
  .openapi("ConditionTestRequest");

export const StatementResultSchema = z
  .object({
    id: z.string().optional(),
    field: z.string(),
    operator: z.string(),
    value: z.unknown(),
    actual_value: z.unknown(),
    previous_value: z.unknown().optional(),
    passed: z.boolean(),
    error: z.string().optional(),
  })
  .openapi("StatementResult");

export const ConditionTestResponse = z
  .object({
    result: z.boolean(),
    kind: z.enum(CONDITION_KINDS),
    evaluated_value: z.unknown().openapi({ description: "The actual value (one statement) or the list of actual values" }),
    expected_value: z.unknown().openapi({ description: "The expected value (one statement) or the list of expected values" }),
    operator: z.string().openapi({ description: "The statement's operator, or `and` / `filter_config` for several" }),
    statements: z.array(StatementResultSchema),
  })
  .openapi("ConditionTestResponse");

/**
 * The context of templates:render: the seed's `object (Context)`, so any key is a root of the templates
 * (`{{ callData.fields.first_name }}`, `{{ transcript }}`); the engine's own keys keep their shapes.
 */
export const RenderContextSchema = z
  .object(contextFields)
  .catchall(z.unknown())
  .openapi("RenderContext", {
    description:
      "The data the templates read: the engine's keys (trigger, entity, record, previous, diff, actions, loop, variables, " +
      "user, now) and any other key as a root of its own. `callData.fields` resolves `parameters.customFields` as " +
      "/api/automation/execute does.",
  });

export const TemplateRenderRequest = z
  .strictObject({
    parameters: JsonObject.openapi({ description: "Any JSON object; every string in it is a Liquid template" }),
    context: RenderContextSchema.optional(),
    strict: z.boolean().optional().openapi({ description: "Report variables that do not exist instead of rendering them empty" }),
  })
  .openapi("TemplateRenderRequest");

export const TemplateRenderResponse = z
  .object({
    original_parameters: JsonObject,
    substituted_parameters: JsonObject,
    substitutions_made: z.array(z.object({ path: z.string(), template: z.string(), value: z.unknown() })),
  })
  .openapi("TemplateRenderResponse");
