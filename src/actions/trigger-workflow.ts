import { z } from "zod";
import { AdmissionRefused } from "../services/admission";
import { startExecution } from "../services/executions";
import { getFlow } from "../store/flows";
import type { SideEffect } from "../engine/reruns/side-effects";
import { defineAction, permanentFailure, type EffectContext } from "./types";

/** The execution the action starts: its id derives from the action's key, so the engine drops a repeat. */
const executionEffect = (ctx: Pick<EffectContext, "idempotencyKey">, flowId: string): SideEffect => ({
  kind: "execution",
  target: `flow/${flowId}`,
  operation: "start",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/**
 * epilot's trigger-workflow: starts an execution of `target_workflow` with the execution chain in its
 * workflow_context. The child's id is derived from this action, so a retried attempt finds the same
 * child instead of starting a second one. What admission refuses (services/admission.ts: a chain deeper
 * than LIMITS.MAX_CHAIN_DEPTH, a disabled target) fails the action, for good; a target over its
 * concurrency_limit gets a child that waits its turn (the action succeeds with its id). The child carries
 * `parent_execution_id` and inherits the parent's correlation_key.
 */
export const triggerWorkflowAction = defineAction({
  types: ["trigger-workflow"],
  config: z.object({ target_workflow: z.string().min(1) }).passthrough(),
  async run(ctx, cfg) {
    const depth = ctx.depth + 1;
    const flow = await getFlow(ctx.env.DB, ctx.orgId, cfg.target_workflow);
    if (!flow) return permanentFailure("TRIGGER_WORKFLOW_ERROR", `Flow ${cfg.target_workflow} not found`);
    const workflowContext = {
      workflow_exec_id: ctx.executionId,
      workflow_exec_task_id: ctx.actionId,
      workflow_role: "trigger_workflow",
      _execution_chain: { parent_execution_id: ctx.executionId, parent_task_id: ctx.actionId, depth },
    };
    try {
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
        // The chain shares one correlation key: the child carries its parent's (when it has one).
        ...(ctx.correlationKey !== undefined ? { correlationKey: ctx.correlationKey } : {}),
      });
      const effect: SideEffect = {
        ...executionEffect(ctx, cfg.target_workflow),
        operation: started.created ? "started" : "existing",
        ref: started.id,
        outcome: "ok",
      };
      return { kind: "success", outputs: { execution_id: started.id, flow_id: flow.id, depth }, effects: [effect] };
    } catch (err) {
      // Admission's no is final; anything else (D1 unavailable) follows the action's retry policy.
      if (err instanceof AdmissionRefused) return permanentFailure("TRIGGER_WORKFLOW_ERROR", err.message, { depth });
      throw err;
    }
  },
  effects: (ctx, cfg) => [executionEffect(ctx, cfg.target_workflow)],
});
