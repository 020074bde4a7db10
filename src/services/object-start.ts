import type { NewExecution } from "../engine/execution/create";
import type { Env } from "../env";
import type { ExecutionSnapshot, StartOutcome } from "../objects/execution-object";

/** What a start made: the execution's id, whether this call created it, its status, and (when its object answered) its snapshot. */
export interface StartResult {
  id: string;
  created: boolean;
  status: string;
  /** The execution as start() left it, when its object answered (saves the caller a second call). */
  snapshot?: ExecutionSnapshot;
}

export function executionStub(env: Env, executionId: string) {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

/** Creates the execution in its object (idempotent per id) as admission decided. */
export async function startObject(env: Env, input: NewExecution): Promise<StartResult> {
  // Workers RPC types cannot express the execution's `unknown` payloads: re-typed here, once.
  const res = (await executionStub(env, input.id).start(input)) as unknown as StartOutcome;
  return { id: input.id, ...res };
}
