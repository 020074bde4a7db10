import type { Principal } from "../api/context";
import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { getFlow } from "../store/flows";
import { claimIdempotencyKey, findIdempotentExecution } from "../store/executions";
import { startExecution } from "./executions";

export interface ApiStart {
  flowId: string;
  entityId?: string;
  entity?: Record<string, unknown> | null;
  workflowContext?: Record<string, unknown>;
  idempotencyKey?: string;
  /** Scope of the idempotency key (one per endpoint). */
  idempotencyScope?: string;
  triggerEvent: Record<string, unknown>;
  variables?: Record<string, unknown>;
}

/**
 * Starts an execution on behalf of an API caller: the flow must exist in the caller's org and be
 * enabled; an Idempotency-Key returns the execution it started before, within its 24-hour window.
 */
export async function startFlowExecution(
  env: Env,
  principal: Principal,
  req: ApiStart,
): Promise<{ id: string; created: boolean }> {
  const flow = await getFlow(env.DB, principal.orgId, req.flowId);
  if (!flow) throw notFound("Flow");
  if (flow.enabled === false) throw new AppError(409, "FLOW_DISABLED", `Flow ${flow.id} is disabled; enable it to run it`);

  const chain = (req.workflowContext?._execution_chain ?? {}) as { depth?: number };
  const depth = chain.depth ?? 0;
  if (depth > LIMITS.MAX_CHAIN_DEPTH) {
    throw new AppError(409, "CHAIN_TOO_DEEP", `Flows triggering flows may nest at most ${LIMITS.MAX_CHAIN_DEPTH} deep`);
  }

  let executionId: string | undefined;
  if (req.idempotencyKey) {
    const now = Date.now();
    const scope = req.idempotencyScope ?? "executions";
    const notBefore = now - LIMITS.IDEMPOTENCY_WINDOW_MS;
    const existing = await findIdempotentExecution(env.DB, principal.orgId, scope, req.idempotencyKey, notBefore);
    executionId =
      existing ?? (await claimIdempotencyKey(env.DB, principal.orgId, scope, req.idempotencyKey, newId(), now, notBefore));
  }
  const res = await startExecution(env, {
    orgId: principal.orgId,
    flow,
    entityId: req.entityId,
    entity: req.entity,
    triggerEvent: req.triggerEvent,
    workflowContext: req.workflowContext,
    depth,
    user: { id: principal.userId, email: principal.email },
    variables: req.variables,
    executionId,
  });
  return { id: res.id, created: res.created };
}
