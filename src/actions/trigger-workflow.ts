import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { startExecution } from "../services/executions";
import { getFlow } from "../store/flows";
import { defineAction, permanentFailure } from "./types";

/**
 * epilot's trigger-workflow: starts an execution of `target_workflow` with the execution chain in its
 * workflow_context. The child's id is derived from this action, so a retried attempt finds the same
 * child instead of starting a second one; chains deeper than LIMITS.MAX_CHAIN_DEPTH fail.
 */
export const triggerWorkflowAction = defineAction({
  types: ["trigger-workflow"],
  config: z.object({ target_workflow: z.string().min(1) }).passthrough(),
  async run(ctx, cfg) {
    const depth = ctx.depth + 1;
    if (depth > LIMITS.MAX_CHAIN_DEPTH) {
      return permanentFailure(
        "TRIGGER_WORKFLOW_ERROR",
        `Execution chain too deep: flows triggering flows may nest at most ${LIMITS.MAX_CHAIN_DEPTH} deep`,
        { depth },
      );
    }
    const flow = await getFlow(ctx.env.DB, ctx.orgId, cfg.target_workflow);
    if (!flow) return permanentFailure("TRIGGER_WORKFLOW_ERROR", `Flow ${cfg.target_workflow} not found`);
    if (flow.enabled === false) return permanentFailure("TRIGGER_WORKFLOW_ERROR", `Flow ${cfg.target_workflow} is disabled`);
    const workflowContext = {
      workflow_exec_id: ctx.executionId,
      workflow_exec_task_id: ctx.actionId,
      workflow_role: "trigger_workflow",
      _execution_chain: { parent_execution_id: ctx.executionId, parent_task_id: ctx.actionId, depth },
    };
    const started = await startExecution(ctx.env, {
      orgId: ctx.orgId,
      flow,
      entityId: ctx.entityId || undefined,
      entity: ctx.entity,
      triggerEvent: {
        type: "flow_automation_task",
        org_id: ctx.orgId,
        entity_id: ctx.entityId,
        parent_execution_id: ctx.executionId,
      },
      workflowContext,
      depth,
      dedupeKey: `child:${ctx.idempotencyKey}`,
    });
    return { kind: "success", outputs: { execution_id: started.id, flow_id: flow.id, depth } };
  },
});
