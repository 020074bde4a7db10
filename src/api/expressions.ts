import {
  type ConditionResult,
  type EntityOperationEvent,
  type EvaluationContext,
  evaluateActionCondition,
  evaluateSimpleConditions,
  evaluateStatement,
  evaluateTriggerConditions,
  matchFilterConfig,
} from "../engine/conditions";
import { recordView, withRecordView } from "../engine/record-view";
import { CustomFieldError, resolveCustomFields } from "../engine/custom-fields";
import { TemplateError, renderValue } from "../engine/templates";
import { AppError } from "../lib/errors";
import type { ActionCondition, ConditionStatement, FilterConfig, SimpleCondition, TriggerCondition } from "../schemas/conditions";
import {
  ConditionInputDoc,
  type ConditionKind,
  ConditionTestRequest,
  ConditionTestResponse,
  type ExpressionContext,
  TemplateRenderRequest,
  TemplateRenderResponse,
  conditionKind,
} from "../schemas/expressions";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

const TAGS = ["Expressions"];

const testCondition = scopedRoute("automations:read", {
  method: "post",
  path: "/conditions:test",
  operationId: "testCondition",
  tags: TAGS,
  summary: "Evaluate a condition against a context and explain each statement",
  description:
    "`condition` may be an epilot ActionCondition, one ConditionStatement, one TriggerCondition, a Coherence condition, " +
    "a list of Coherence conditions, `{trigger_conditions: [...]}` or `{filter_config: {...}}`; the kind is told apart by " +
    "key (see ConditionTestInput). The record (`context.entity` or `context.record`) is also readable by the plain names " +
    "`id`, `created_at`, `updated_at`, `schema`, `title`, `tags`, `org` unless it has attributes of those names. Nothing " +
    "is stored. A bad condition is a 400 naming the field.",
  request: jsonBody(ConditionTestRequest),
  responses: {
    200: jsonResponse(ConditionTestResponse, "The result and one explanation line per statement"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

const renderTemplates = scopedRoute("automations:read", {
  method: "post",
  path: "/templates:render",
  operationId: "renderTemplates",
  tags: TAGS,
  summary: "Render the Liquid templates in a parameters object against a context",
  description:
    "Every string in `parameters` is rendered; a string that is exactly one `{{ expression }}` keeps the value's type. " +
    "`record.id`, `record.created_at` (and `updated_at`, `schema`, `title`, `tags`, `org`) read the record's `_` fields " +
    "unless it has attributes of those names. A template that does not parse (unclosed `{{` or block, unknown tag or " +
    "filter, a `|` without a filter name) or, with `strict`, names a missing variable, is a 400 `TEMPLATE_ERROR` whose " +
    "details name the field (`parameters.<path>`) and the line/column.",
  request: jsonBody(TemplateRenderRequest),
  responses: {
    200: jsonResponse(TemplateRenderResponse, "The rendered parameters"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

function evaluationContext(c: ExpressionContext | undefined, nowMs: number): EvaluationContext {
  const entity = recordView(c?.entity !== undefined ? c.entity : c?.record);
  return {
    trigger: c?.trigger,
    entity: entity ?? undefined,
    previous: c?.previous,
    diff: c?.diff,
    actions: c?.actions,
    loop: c?.loop,
    variables: c?.variables,
    user: c?.user,
    now: nowMs,
  };
}

function entityEvent(ctx: EvaluationContext): EntityOperationEvent {
  const trigger = ctx.trigger ?? {};
  const activity = trigger.activity as { type?: string } | undefined;
  return {
    operation: String(trigger.operation ?? trigger.operation_type ?? ""),
    entity: ctx.entity ?? {},
    diff: ctx.diff,
    previous: ctx.previous,
    activity: activity && typeof activity === "object" ? activity : undefined,
  };
}

function evaluate(kind: ConditionKind, condition: unknown, ctx: EvaluationContext): ConditionResult {
  switch (kind) {
    case "action_condition":
      return evaluateActionCondition(condition as ActionCondition, ctx);
    case "statement": {
      const s = evaluateStatement(condition as ConditionStatement, ctx);
      return { passed: s.passed, statements: [s] };
    }
    case "simple_condition":
      return evaluateSimpleConditions([condition as SimpleCondition], ctx);
    case "simple_conditions":
      return evaluateSimpleConditions(condition as SimpleCondition[], ctx);
    case "trigger_condition":
    case "trigger_conditions": {
      const list =
        kind === "trigger_condition"
          ? [condition as TriggerCondition]
          : (condition as { trigger_conditions: TriggerCondition[] }).trigger_conditions;
      // The trigger event carries its entity, so sources that are entity attributes resolve (epilot's `billing_contact.email`);
      // it is read through the record view, as the matcher does (engine/trigger-match.ts).
      return evaluateTriggerConditions(
        list,
        withRecordView({ ...ctx.trigger, entity: ctx.trigger?.entity ?? ctx.entity ?? undefined }),
      );
    }
    case "filter_config":
      return matchFilterConfig((condition as { filter_config: FilterConfig }).filter_config, entityEvent(ctx));
  }
}

const nowOf = (c: ExpressionContext | undefined): number => (c?.now ? Date.parse(c.now) : Date.now());

export const expressionsRouter = createRouter()
  .openapi(testCondition, (c) => {
    const body = c.req.valid("json");
    const kind = conditionKind(body.condition) as ConditionKind;
    const ctx = evaluationContext(body.context, nowOf(body.context));
    const result = evaluate(kind, body.condition, ctx);
    const single = result.statements.length === 1 ? result.statements[0] : undefined;
    return c.json(
      {
        result: result.passed,
        kind,
        evaluated_value: single ? single.actual_value : result.statements.map((s) => s.actual_value),
        expected_value: single ? single.value : result.statements.map((s) => s.value),
        operator: single ? single.operator : kind === "filter_config" ? "filter_config" : "and",
        statements: result.statements,
      },
      200,
    );
  })
  .openapi(renderTemplates, (c) => {
    const body = c.req.valid("json");
    const ctx = body.context;
    const entity = recordView(ctx?.entity !== undefined ? ctx.entity : ctx?.record);
    // Plura's custom fields first (params naming a callData.fields key take its value), then the templates.
    let parameters: Record<string, unknown>;
    try {
      parameters = resolveCustomFields(body.parameters, ctx?.callData as { fields?: Record<string, unknown> } | undefined);
    } catch (err) {
      if (!(err instanceof CustomFieldError)) throw err;
      throw new AppError(400, err.code, err.message, [
        { path: `parameters.${err.field}`, location: "json", message: err.message },
      ]);
    }
    try {
      const rendered = renderValue(
        parameters,
        {
          // Any other key of the context is a root of its own; the engine's keys below keep their meaning.
          ...ctx,
          record: entity,
          entity,
          previous: ctx?.previous,
          trigger: ctx?.trigger,
          actions: ctx?.actions,
          loop: ctx?.loop,
          variables: ctx?.variables,
          user: ctx?.user,
          diff: ctx?.diff,
          now: nowOf(ctx),
        },
        { strict: body.strict === true },
      );
      return c.json(
        {
          original_parameters: body.parameters,
          substituted_parameters: rendered.value as Record<string, unknown>,
          substitutions_made: rendered.substitutions,
        },
        200,
      );
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      throw new AppError(
        400,
        "TEMPLATE_ERROR",
        e.message.replace(/^Template error at /, "Template error at parameters."),
        e.issues.map((i) => ({
          path: i.path ? `parameters.${i.path}` : "parameters",
          location: "json",
          code: i.kind,
          message: i.line !== undefined ? `${i.message} (line ${i.line}, col ${i.col})` : i.message,
        })),
      );
    }
  });

// The accepted condition shapes, as a component the request schema refers to.
expressionsRouter.openAPIRegistry.register("ConditionTestInput", ConditionInputDoc);
