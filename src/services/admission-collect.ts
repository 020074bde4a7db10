import type { NewExecution } from "../engine/execution/create";
import type { CollectPlan } from "../engine/flow-control/start";
import type { Env } from "../env";
import { deterministicId, newId } from "../lib/ids";
import { collectStatements, groupFrom } from "../store/flow-control";
import { primaryKey } from "./admission-queue";
import { armFlowControl } from "./flow-control-alarm";
import type { StartResult } from "./admission-start";

/** The id of the execution a debounce or batch group starts: derived from the group, so a flush done twice starts one. */
export const groupExecutionId = (orgId: string, flowId: string, groupId: string): Promise<string> =>
  deterministicId(orgId, flowId, `group:${groupId}`);

/**
 * Debounce and batch (docs/flow-control.md): the event's start joins its key's open group in one D1 batch
 * (store/flow-control.ts) instead of starting; the flow's alarm (objects/flow-control-object.ts) starts one
 * execution when the group is due — at once when it is full. Answers with the id of that execution. A
 * redelivered event joins nothing twice. An alarm that could not be armed is repaired by the reconciliation.
 */
export async function collectStart(
  env: Env,
  input: NewExecution,
  plan: CollectPlan,
  keys: Record<string, string>,
  now: number,
): Promise<StartResult> {
  const member: NewExecution = {
    ...input,
    admission: {
      decision: plan.kind === "debounce" ? "debounced" : "batched",
      reason: "",
      key: primaryKey(keys),
      waited_ms: 0,
      keys,
    },
  };
  const db = env.DB;
  const results = await db.batch(
    collectStatements(db, {
      groupId: newId(),
      member,
      kind: plan.kind,
      key: plan.key,
      now,
      period_ms: plan.period_ms,
      max_wait_ms: plan.max_wait_ms,
      max_size: plan.max_size,
      keep: plan.keep,
    }),
  );
  const group = groupFrom(results[results.length - 1]);
  if (!group) throw new Error(`flow control: the ${plan.kind} group of ${input.id} was not found`);
  if (group.state === "open" || group.state === "full") {
    await armFlowControl(env, input.org_id, input.flow.id, group.state === "full" ? now : group.due_at).catch((err: unknown) =>
      console.warn(`flow control: could not arm the alarm of ${input.flow.id}: ${String(err)}`),
    );
  }
  return {
    id: await groupExecutionId(input.org_id, input.flow.id, group.id),
    created: results[1].meta.changes > 0,
    status: plan.kind === "debounce" ? "debounced" : "batched",
  };
}
