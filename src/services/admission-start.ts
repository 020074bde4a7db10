import type { StartOutcome } from "../contracts/execution-object";
import type { NewExecution } from "../engine/execution/create";
import type { Env } from "../env";
import { executionClient } from "./object-clients";

/** What a start made: the execution's id, whether this call created it, its status, and (when its object answered) its snapshot. */
export interface StartResult extends Partial<Pick<StartOutcome, "snapshot">> {
  id: string;
  created: boolean;
  status: string;
}

/** Creates the execution in its object (idempotent per id) as admission decided. */
export async function startObject(env: Env, input: NewExecution): Promise<StartResult> {
  return { id: input.id, ...(await executionClient(env, input.id).start(input)) };
}
