import type { Principal } from "../lib/principal";
import type { ExecutionSnapshot } from "../objects/execution-object";
import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { cachedFlow } from "../store/flow-cache";
import { claimIdempotencyKey, findIdempotentExecution } from "../store/executions";
import { admissionRefusal } from "./admission";
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
 * Starts an execution on behalf of an API caller: the flow must exist in the caller's org (404) and be
 * admitted (services/admission.ts: 409 FLOW_DISABLED or CHAIN_TOO_DEEP; over its concurrency_limit it
 * is created `pending` and waits its turn); an Idempotency-Key returns the execution it started before, within its 24-hour window.
 */
export async function startFlowExecution(
  env: Env,
  principal: Principal,
  req: ApiStart,
): Promise<{ id: string; created: boolean; snapshot?: ExecutionSnapshot }> {
  const flow = await cachedFlow(env, principal.orgId, req.flowId);
  if (!flow) throw notFound("Flow");
  const chain = (req.workflowContext?._execution_chain ?? {}) as { depth?: number };
  const depth = chain.depth ?? 0;
  // Refused (409) before an idempotency key is claimed for it; startExecution decides the rest.
  const refusal = admissionRefusal(flow, depth);
  if (refusal) throw refusal;

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
  return { id: res.id, created: res.created, snapshot: res.snapshot };
}
