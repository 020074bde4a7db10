import { dryRun, type DryRunOptions } from "../engine/dry-run";
import { runStatus, toRun } from "../engine/execution/views";
import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AutomationFlow } from "../schemas/flow";
import { listExecutions, type ExecutionRow } from "../store/executions";
import { getRecord } from "../store/records";
import { findExecutionRow, startExecution, startedBy, toFlowSnapshot } from "./executions";
import { executionClient } from "./object-clients";
import { readExecution } from "./queued-executions";
import { getRecordSnapshot } from "./records";

/**
 * Normalized runs (TrustPager / Coherence): the summary of an execution read from its D1 row, the full run
 * (inline action_results) read from its object, and the two synchronous ways to produce one — a manual trigger
 * and one action in isolation — each answering once the run settles (or after LIMITS.MAX_SYNC_WAIT_MS, running).
 */

export type RunStatus = "completed" | "failed" | "running" | "skipped";

/** Normalized run statuses → the execution statuses they stand for. */
export const RUN_TO_EXECUTION: Record<RunStatus, string[]> = {
  completed: ["success"],
  failed: ["failed", "cancelled", "hot"],
  skipped: ["skipped"],
  running: ["pending", "starting", "in_progress", "paused", "scheduled"],
};

export function runFromRow(r: ExecutionRow) {
  return {
    run_id: r.id,
    flow_id: r.flow_id,
    status: runStatus(r.status),
    execution_status: r.status,
    started_at: r.started_at ?? r.created_at,
    finished_at: r.finished_at,
    actions_total: r.actions_total,
    actions_executed: r.actions_executed,
    actions_failed: r.actions_failed,
    actions_skipped: r.actions_skipped,
    ...(r.last_error ? { error: r.last_error } : {}),
  };
}

/** The run view of an execution, read from its object (or the admission queue, while it waits for a slot). */
export async function runView(env: Env, executionId: string, orgId: string) {
  const snap = await readExecution(env, orgId, executionId);
  if (!snap) throw notFound("Run");
  return toRun(snap.state, snap.detail);
}

/** One run of the caller's org (404 for another org's). */
export async function getRun(env: Env, orgId: string, runId: string) {
  const row = await findExecutionRow(env, orgId, runId);
  if (!row) throw notFound("Run");
  return { row, run: await runView(env, runId, orgId) };
}

export interface RunListQuery {
  status?: RunStatus;
  since?: string;
  limit?: number;
  offset?: number;
}

/** The org's execution rows, newest first: a page with the limit and offset it was read with. */
export async function listRuns(env: Env, orgId: string, q: RunListQuery & { flowId?: string }) {
  const limit = q.limit ?? LIMITS.DEFAULT_PAGE_SIZE;
  const offset = q.offset ?? 0;
  const page = await listExecutions(env.DB, {
    orgId,
    flowId: q.flowId,
    statuses: q.status ? RUN_TO_EXECUTION[q.status] : undefined,
    since: q.since ? new Date(q.since).toISOString() : undefined,
    limit,
    offset,
  });
  return { ...page, limit, offset };
}

/** A flow's execution rows, newest first. */
export async function listFlowRuns(env: Env, orgId: string, flowId: string, q: RunListQuery) {
  return listRuns(env, orgId, { ...q, flowId });
}

export interface RunSubjectInput {
  record_id?: string;
  test_data?: Record<string, unknown>;
  previous?: Record<string, unknown>;
}

/** The record to run against (a stored one, test data, or both merged) and the manual trigger event. */
export async function runSubject(env: Env, p: Principal, body: RunSubjectInput) {
  let entity: Record<string, unknown> | null = null;
  if (body.record_id) {
    const row = await getRecord(env.DB, p.orgId, null, body.record_id);
    if (!row) throw notFound("Record");
    entity = await getRecordSnapshot(env.DB, p.orgId, row.schema, row.id);
  }
  if (body.test_data) entity = { _id: body.record_id ?? "test", ...(entity ?? {}), ...body.test_data };
  const triggerEvent: Record<string, unknown> = {
    type: "manual",
    org_id: p.orgId,
    entity_id: body.record_id ?? entity?._id ?? null,
    caller: { actor: p.actor },
    ...(body.test_data ? { test_data: body.test_data } : {}),
    ...(body.previous ? { previous: body.previous } : {}),
  };
  return { entity, triggerEvent };
}

/**
 * Runs the flow now on a record or test data (it must be admitted: enabled, …) and answers the run once it
 * settles; an Idempotency-Key (scoped per endpoint) answers the run it started before.
 */
export async function triggerRun(
  env: Env,
  p: Principal,
  flowId: string,
  body: RunSubjectInput,
  idempotency: { key?: string; scope?: string } = {},
) {
  const { entity, triggerEvent } = await runSubject(env, p, body);
  const started = await startExecution(env, {
    orgId: p.orgId,
    flow: flowId,
    entityId: body.record_id,
    entity,
    idempotencyKey: idempotency.key,
    idempotencyScope: idempotency.scope,
    triggerEvent,
    user: startedBy(p),
  });
  await executionClient(env, started.id).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
  return runView(env, started.id, p.orgId);
}

/** Runs one action of a flow in isolation (its condition and schedule not applied) and answers the run. */
export async function executeSingleAction(
  env: Env,
  p: Principal,
  flow: AutomationFlow,
  actionId: string,
  body: { record_id?: string; test_data?: Record<string, unknown> },
) {
  const action = flow.actions.find((a) => a.id === actionId);
  if (!action) throw notFound("Action");
  const { condition_id: _c, schedule_id: _s, ...isolated } = action;
  const entity = body.test_data ? { _id: body.record_id ?? "test", ...body.test_data } : undefined;
  const started = await startExecution(env, {
    orgId: p.orgId,
    flow: { ...flow, actions: [isolated] as typeof flow.actions },
    entityId: body.record_id,
    entity,
    triggerEvent: { type: "manual", mode: "single_action", action_id: actionId, org_id: p.orgId, caller: { actor: p.actor } },
    user: startedBy(p),
  });
  await executionClient(env, started.id).waitUntilSettled(LIMITS.MAX_SYNC_WAIT_MS);
  return runView(env, started.id, p.orgId);
}

/** A run's view with the execution state it came from (its trigger event, entity), for dialects' log shapes. */
export async function runDetail(env: Env, orgId: string, executionId: string) {
  const snap = await readExecution(env, orgId, executionId);
  if (!snap) return null;
  return { run: toRun(snap.state, snap.detail), state: snap.state };
}

/**
 * The run details of several executions, in order, with at most MAX_PARALLEL_EXECUTION_READS object reads in flight:
 * a page of logs asks many Durable Objects, and one request must not fan out to a hundred at once.
 */
export async function runDetails(env: Env, orgId: string, executionIds: string[]) {
  const out: Awaited<ReturnType<typeof runDetail>>[] = new Array(executionIds.length);
  let next = 0;
  const worker = async () => {
    while (next < executionIds.length) {
      const i = next++;
      out[i] = await runDetail(env, orgId, executionIds[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIMITS.MAX_PARALLEL_EXECUTION_READS, executionIds.length) }, worker));
  return out;
}

/** Dry run of a flow against a record or test data: nothing runs, nothing changes (engine/dry-run.ts). */
export async function dryRunFlow(
  env: Env,
  p: Principal,
  flow: AutomationFlow,
  body: RunSubjectInput,
  options: DryRunOptions = {},
) {
  const { entity, triggerEvent } = await runSubject(env, p, body);
  return dryRun(
    {
      id: "dry-run",
      org_id: p.orgId,
      flow: toFlowSnapshot(flow),
      entity_id: String(triggerEvent.entity_id ?? ""),
      entity,
      trigger_event: triggerEvent,
      user: { id: p.userId, email: p.email },
    },
    Date.now(),
    options,
  );
}
