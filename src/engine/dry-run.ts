import { evaluateFlowCondition, evaluateSimpleConditions } from "./conditions";
import { renderValue } from "./templates";
import { buildContext } from "./execution/context";
import { createExecutionState, type NewExecution } from "./execution/create";
import { scheduleDueAt } from "./execution/schedule-math";
import type { StatementExplanation } from "./execution/types";

type SimpleCondition = Parameters<typeof evaluateSimpleConditions>[0][number];
type FlowCondition = Parameters<typeof evaluateFlowCondition>[0];

export interface ActionPreview {
  action_id: string;
  action_type: string;
  name?: string;
  would_run: boolean;
  skip_reason?: string;
  condition?: { condition_id: string; passed: boolean; statements: StatementExplanation[] };
  rendered_config?: Record<string, unknown>;
  template_error?: string;
  scheduled_for?: string;
  loop_items?: number;
}

export interface DryRunResult {
  would_execute: boolean;
  conditions_passed: boolean;
  conditions_evaluated: StatementExplanation[];
  actions_preview: ActionPreview[];
}

/**
 * Coherence's dry run: the flow's conditions are evaluated against the record (or test data) and
 * every action's config is rendered, exactly as an execution would — but nothing runs and nothing is
 * stored. Actions are previewed as if every earlier action succeeded with empty outputs.
 */
export function dryRun(input: NewExecution, now: number): DryRunResult {
  const state = createExecutionState(input, now);
  const flow = state.flow;
  const simple = (flow.conditions ?? []).filter((c) => typeof c.field === "string" && typeof c.operator === "string");
  const flowLevel = simple.length
    ? evaluateSimpleConditions(simple as unknown as SimpleCondition[], buildContext(state, now))
    : { passed: true, statements: [] };
  const conditionsEvaluated = [...(flowLevel.statements as StatementExplanation[])];

  const previews: ActionPreview[] = flow.actions.map((def, i) => {
    const preview: ActionPreview = { action_id: def.id, action_type: def.type, name: def.name, would_run: flowLevel.passed };
    if (!flowLevel.passed) {
      preview.skip_reason = "The flow's conditions were not met";
      return preview;
    }
    const cond = def.condition_id ? flow.conditions?.find((c) => c.id === def.condition_id) : undefined;
    if (def.condition_id && !cond) {
      preview.would_run = false;
      preview.skip_reason = `Unknown condition ${def.condition_id}`;
    } else if (cond) {
      const r = evaluateFlowCondition(cond as unknown as FlowCondition, buildContext(state, now));
      const statements = r.statements as StatementExplanation[];
      preview.condition = { condition_id: String(cond.id), passed: r.passed, statements };
      conditionsEvaluated.push(...statements);
      if (!r.passed) {
        preview.would_run = false;
        preview.skip_reason = `Condition ${cond.id} was not met`;
      }
    }
    const scheduleId = def.schedule_id ?? (cond?.schedule_id as string | undefined);
    const schedule = scheduleId ? flow.schedules?.find((s) => s.id === scheduleId) : undefined;
    if (schedule) {
      const due = scheduleDueAt(schedule, state);
      if ("at" in due) preview.scheduled_for = new Date(Math.max(due.at, now)).toISOString();
      else preview.skip_reason ??= due.error;
    }
    let loopItem: { item: unknown; index: number } | undefined;
    if (def.loop_id) {
      const loop = flow.loops?.find((l) => l.id === def.loop_id);
      try {
        const items = loop ? renderValue(`{{ ${loop.source_path} }}`, buildContext(state, now)).value : undefined;
        preview.loop_items = Array.isArray(items) ? items.length : 0;
        if (Array.isArray(items) && items.length) loopItem = { item: items[0], index: 0 };
      } catch (err) {
        preview.template_error = (err as Error).message;
      }
    }
    try {
      preview.rendered_config = renderValue(def.config ?? {}, buildContext(state, now, loopItem)).value as Record<
        string,
        unknown
      >;
    } catch (err) {
      preview.template_error = (err as Error).message;
    }
    // Later actions see this one as succeeded (with no outputs), as in a run where it succeeds.
    state.actions[i].execution_status = preview.would_run ? "success" : "skipped";
    return preview;
  });

  const conditionsPassed = flowLevel.passed && previews.every((p) => !p.condition || p.condition.passed);
  return {
    would_execute: flowLevel.passed && previews.some((p) => p.would_run),
    conditions_passed: conditionsPassed,
    conditions_evaluated: conditionsEvaluated,
    actions_preview: previews,
  };
}
