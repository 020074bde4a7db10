import { actionHandler } from "../actions/registry";
import type { ActionContext, ActionResult, AgentDefaults } from "../actions/types";
import { NO_DATA } from "../engine/execution/advance";
import { buildContext } from "../engine/execution/context";
import { attemptOutcomeOf } from "../engine/execution/effects";
import type { ActionOutcome, EngineEvent, ExecutionData, ExecutionState, RunActionCommand } from "../engine/execution/types";
import type { Env } from "../env";
import { randomToken, sha256Hex } from "../lib/crypto";
import type { AttemptDetail } from "../store/execution-storage";
import { effectContext, fallbackEffects } from "./action-effects";

/** What one action run produced: the engine's event, the attempt to record, and a resume token to keep. */
export interface ActionRun {
  event: EngineEvent;
  attempt: AttemptDetail;
  /** The outputs the attempt's response body may be shared with (stored once). */
  outputs?: Record<string, unknown>;
  /** The token of a pause, for the object's private row only. */
  resumeToken?: string;
}

/** Replaces every occurrence of `secret` in a JSON value (a resume token must not be stored in attempts or outputs). */
function mask<T>(value: T, secret: string, replacement: string): T {
  if (value === undefined) return value;
  const json = JSON.stringify(value);
  return json.includes(secret) ? (JSON.parse(json.split(secret).join(replacement)) as T) : value;
}

const failed = (reason: string, info?: Record<string, unknown>): ActionResult => ({
  kind: "failed",
  error: { error_code: "BAD_CONFIG", error_reason: reason, ...(info ? { error_info: info } : {}) },
  retry: "never",
  effects: [],
});

/**
 * Performs one `run_action` command: validates the rendered config against the action type's schema,
 * runs the handler and classifies what came back. Never throws: a crash of the handler is a failed
 * attempt under the retry policy. `clock` is the object's (test-movable) clock; `data` reads earlier outputs
 * for the action's template context.
 */
export async function runActionCommand(
  env: Env,
  state: ExecutionState,
  cmd: RunActionCommand,
  clock: () => number,
  data: ExecutionData = NO_DATA,
  progress: unknown = null,
): Promise<ActionRun> {
  const handler = actionHandler(cmd.action_type);
  const started = clock();
  const issued: { token?: string; hash?: string } = {};
  let result: ActionResult;
  let config: unknown = cmd.config;
  if (!handler) {
    result = failed(`Unknown action type ${cmd.action_type}`);
  } else {
    const parsed = handler.config.safeParse(cmd.config);
    if (!parsed.success) {
      result = failed(`Invalid config for ${cmd.action_type}`, {
        details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      });
    } else {
      config = parsed.data;
      try {
        result = await handler.run(
          actionContext(env, state, cmd, started, data, progress, (t) => Object.assign(issued, t)),
          parsed.data,
        );
      } catch (err) {
        result = {
          kind: "failed",
          error: { error_code: "INTERNAL_ERROR", error_reason: (err as Error).message ?? String(err) },
          retry: "policy",
        };
      }
    }
  }
  let { request, response, effects, ...outcome } = result;
  effects ??= await fallbackEffects(
    handler,
    effectContext(env, state, cmd),
    config,
    outcome.kind === "failed",
    request,
    response,
  );
  const token = issued.token;
  if (token && issued.hash) {
    // Only the hash is kept anywhere but the object's private resume_token row.
    const marker = `[resume_token sha256:${issued.hash.slice(0, 12)}]`;
    request = mask(request, token, marker);
    response = mask(response, token, marker);
    outcome = mask(outcome, token, marker);
    effects = mask(effects, token, marker);
  }
  return {
    event: {
      type: "action_result",
      action_id: cmd.action_id,
      iteration: cmd.iteration,
      attempt: cmd.attempt,
      run: cmd.run,
      outcome: outcome as ActionOutcome,
    },
    attempt: {
      action_id: cmd.action_id,
      iteration: cmd.iteration ?? null,
      attempt: cmd.number ?? cmd.attempt,
      started_at: started,
      ended_at: clock(),
      outcome: attemptOutcomeOf(outcome as ActionOutcome),
      request,
      response,
      error: outcome.kind === "failed" ? outcome.error : undefined,
      effects,
    },
    ...(outcome.kind === "success" ? { outputs: outcome.outputs } : {}),
    ...(token && outcome.kind === "paused" ? { resumeToken: token } : {}),
  };
}

function actionContext(
  env: Env,
  state: ExecutionState,
  cmd: RunActionCommand,
  now: number,
  data: ExecutionData,
  progress: unknown,
  onIssued: (t: { token: string; hash: string }) => void,
): ActionContext {
  const approval = state.actions.find((a) => a.id === cmd.action_id)?.approval;
  const agent = agentOf(state.workflow_context);
  return {
    env,
    orgId: state.org_id,
    executionId: state.id,
    flowId: state.flow.id,
    actionId: cmd.action_id,
    attempt: cmd.attempt,
    iteration: cmd.iteration,
    idempotencyKey: cmd.idempotency_key,
    // The attempt's recorded start: a delay computed from it is exact in the run history.
    now,
    depth: state.depth,
    entityId: state.entity_id,
    entity: state.entity,
    triggerEvent: state.trigger_event,
    correlationKey: state.correlation_key,
    issueResumeToken: async () => {
      const token = `${state.id}.${randomToken(32)}`;
      const issued = { token, hash: await sha256Hex(token) };
      onIssued(issued);
      return issued;
    },
    templateContext: () => {
      const loop =
        cmd.iteration === undefined ? undefined : { item: data.loopItem(cmd.action_id, cmd.iteration), index: cmd.iteration };
      return buildContext(state, now, data, loop);
    },
    progress,
    ...(approval ? { approval } : {}),
    ...(agent ? { agent } : {}),
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The agent an agent run carries in its workflow context (services/agent-runs.ts), as its AI steps read it. */
function agentOf(context: Record<string, unknown> | undefined): AgentDefaults | undefined {
  const agent = context?.agent as { id?: unknown; config?: Record<string, unknown> } | undefined;
  if (!agent || typeof agent.id !== "string") return undefined;
  const config = agent.config ?? {};
  const tools = Array.isArray(config.tools) ? config.tools.filter((t): t is string => typeof t === "string") : undefined;
  return {
    agent_id: agent.id,
    instructions: str(config.instructions),
    connection_id: str(config.connection_id),
    model: str(config.model),
    ...(tools ? { tools } : {}),
  };
}
