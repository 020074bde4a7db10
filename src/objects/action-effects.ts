import { actionHandler } from "../actions/registry";
import type { ActionHandler, EffectContext } from "../actions/types";
import type { ErrorOutput, ExecutionState, RunActionCommand } from "../engine/execution/types";
import { effectsFromRequest, type SideEffect } from "../engine/reruns/side-effects";
import { CustomFieldError } from "../engine/custom-fields";
import type { Env } from "../env";
import { AppError } from "../lib/errors";

/**
 * What an action run would do to the world, found without doing it (engine/reruns/side-effects.ts): the
 * effects a rerun's preview lists, and those an interrupted attempt is recorded with. The same checks as a
 * run come first: an unknown type or a config its schema refuses fails before anything is sent.
 */
export interface PlannedRun {
  effects: SideEffect[];
  /** The run would fail before sending anything (and not be retried). */
  failure?: ErrorOutput;
}

const badConfig = (reason: string, info?: Record<string, unknown>): PlannedRun => ({
  effects: [],
  failure: { error_code: "BAD_CONFIG", error_reason: reason, ...(info ? { error_info: info } : {}) },
});

export function effectContext(env: Env, state: ExecutionState, cmd: RunActionCommand): EffectContext {
  return {
    env,
    orgId: state.org_id,
    actionId: cmd.action_id,
    idempotencyKey: cmd.idempotency_key,
    entityId: state.entity_id,
    entity: state.entity,
    triggerEvent: state.trigger_event,
  };
}

/** The effects of a handler for a parsed config; an input error (what the run refuses as BAD_CONFIG) is a failure. */
export async function handlerEffects(handler: ActionHandler, ctx: EffectContext, config: unknown): Promise<PlannedRun> {
  if (!handler.effects) return { effects: [] };
  try {
    return { effects: await handler.effects(ctx, config) };
  } catch (err) {
    if (err instanceof AppError || err instanceof CustomFieldError) return badConfig(err.message);
    throw err;
  }
}

export async function plannedRun(env: Env, state: ExecutionState, cmd: RunActionCommand): Promise<PlannedRun> {
  const handler = actionHandler(cmd.action_type);
  if (!handler) return badConfig(`Unknown action type ${cmd.action_type}`);
  const parsed = handler.config.safeParse(cmd.config);
  if (!parsed.success) {
    return badConfig(`Invalid config for ${cmd.action_type}`, {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return handlerEffects(handler, effectContext(env, state, cmd), parsed.data);
}

/**
 * The effects an attempt is recorded with when its action did not say (a handler that threw, or a type
 * that declares none): its planned effects with the outcome unknown for a failure, or, for a type that
 * plans none, what its recorded request shows.
 */
export async function fallbackEffects(
  handler: ActionHandler | undefined,
  ctx: EffectContext,
  config: unknown,
  failed: boolean,
  request: unknown,
  response: unknown,
): Promise<SideEffect[]> {
  if (!handler?.effects) return effectsFromRequest(request, response);
  const planned = await handlerEffects(handler, ctx, config).catch(() => ({ effects: [] as SideEffect[] }));
  return planned.effects.map((e) => ({ ...e, outcome: failed ? "unknown" : "ok" }));
}
