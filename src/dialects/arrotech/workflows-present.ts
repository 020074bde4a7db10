import type { AutomationFlow } from "../../schemas/flow";
import type { runFromRow, runView } from "../../services/runs";
import { actionToStep, workflowLens } from "./workflows-translate";

/** Arrotech's response shapes: a stored flow as a workflow, and runs as workflow executions. */

/** A step's config as shown: the engine's `secret_configured: false` marker says nothing here. */
function publicParams(params: Record<string, unknown>): Record<string, unknown> {
  if (params.secret_configured !== false) return params;
  const { secret_configured: _s, ...rest } = params;
  return rest;
}

export function presentWorkflow(flow: AutomationFlow) {
  const view = workflowLens.read(flow);
  const model = view.doc;
  return {
    id: flow.id,
    ...model,
    steps: model.steps.map((s) => ({ ...s, params: publicParams(s.params) })),
    version: flow.version,
    is_template: false,
    created_at: flow.created_at,
    updated_at: flow.updated_at,
    last_run_at: flow.last_run_at,
    run_count: flow.runs,
    ...workflowLens.native(view, flow),
  };
}

type RowRun = ReturnType<typeof runFromRow>;
type FullRun = Awaited<ReturnType<typeof runView>>;

/** An execution's summary (read from the executions index, no object read). */
export function executionSummary(run: RowRun | FullRun) {
  return {
    id: run.run_id,
    workflow_id: run.flow_id,
    status: run.status,
    execution_status: run.execution_status,
    started_at: run.started_at ?? null,
    completed_at: run.finished_at,
    steps_total: run.actions_total,
    steps_executed: run.actions_executed,
    steps_failed: run.actions_failed,
    steps_skipped: run.actions_skipped,
    error: run.error ?? null,
  };
}

/** A full execution with each step's result; tools are named from the flow the run belongs to. */
export function executionDetail(run: FullRun, flow: AutomationFlow, inputData: Record<string, unknown>) {
  const toolOf = new Map(flow.actions.map((a, i) => [a.id, actionToStep(a, i).step.tool]));
  return {
    ...executionSummary(run),
    input_data: inputData,
    step_results: run.action_results.map((r) => ({
      step_id: r.action_id,
      tool: toolOf.get(r.action_id) ?? r.action_type,
      status: r.status,
      error: r.error,
      duration_ms: r.duration_ms,
      attempts: r.attempts,
      output: r.response,
    })),
    truncated: run.truncated,
  };
}
