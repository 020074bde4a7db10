import { z } from "zod";
import { CustomFieldError, resolveCustomFields } from "../engine/custom-fields";
import type { SideEffect, SideEffectKind } from "../engine/reruns/side-effects";
import { AppError } from "../lib/errors";
import type { ProviderCategory } from "../providers/types";
import { performCall, prepareCall, type CallOutcome, type PreparedCall } from "../services/integrations";
import type { ActionContext, ActionResult, EffectContext } from "./types";
import { defineAction, permanentFailure } from "./types";

const KIND_OF_CATEGORY: Partial<Record<ProviderCategory, SideEffectKind>> = { email: "email", sms: "sms", llm: "model" };

/** The provider tool a prepared call would run: e-mail, SMS and model providers are their own kinds. */
export function providerEffect(
  prepared: Pick<PreparedCall, "provider" | "actionName" | "action">,
  ctx: Pick<EffectContext, "idempotencyKey">,
): SideEffect {
  const sendsKey = prepared.action.idempotent === true;
  return {
    kind: KIND_OF_CATEGORY[prepared.provider.category] ?? "provider",
    target: `${prepared.provider.platform}.${prepared.actionName}`,
    idempotency_key: sendsKey ? ctx.idempotencyKey : null,
    dedupe: sendsKey ? "receiver" : "none",
  };
}

/** A call's outcome with the provider tool it ran as its effect. */
export type EffectedOutcome = CallOutcome & { effect: SideEffect };

/**
 * The `integration` action: any provider action inside a flow. `params` arrive rendered (templates); enabled
 * `customFields` then take their values from the call data: the trigger's `callData` (also under `body` or
 * `payload`), or, when the trigger has none, the triggering record's attributes.
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export function callDataOf(ctx: Pick<ActionContext, "triggerEvent" | "entity">): { fields?: Record<string, unknown> } {
  const t = ctx.triggerEvent;
  for (const candidate of [
    t.callData,
    isObject(t.body) ? t.body.callData : undefined,
    isObject(t.payload) ? t.payload.callData : undefined,
  ]) {
    if (isObject(candidate)) return candidate as { fields?: Record<string, unknown> };
  }
  return { fields: ctx.entity ?? {} };
}

/** A call's outcome as the engine's result: 429 waits for Retry-After, 5xx/timeouts follow the policy, 4xx fail. */
export function outcomeToResult(o: EffectedOutcome, extraOutputs: Record<string, unknown> = {}): ActionResult {
  const request = o.exchanges.length === 1 ? o.exchanges[0].request : o.exchanges.map((e) => e.request);
  const response = o.exchanges.length === 1 ? o.exchanges[0].response : o.exchanges.map((e) => e.response);
  const where = { platform: o.platform, action: o.action, connection_id: o.connection_id };
  // A call refused before its first request (the outbound policy) sent nothing; one without an answer may have arrived.
  const answered = o.exchanges.some((e) => e.response);
  const effects: SideEffect[] = o.exchanges.length
    ? [
        {
          ...o.effect,
          outcome: o.success ? "ok" : answered ? "failed" : "unknown",
          ...(o.http_status !== undefined ? { status: o.http_status } : {}),
          requests: o.exchanges.length,
        },
      ]
    : [];
  if (o.success) {
    return {
      kind: "success",
      outputs: { success: true, ...where, http_status: o.http_status ?? null, data: o.data ?? null, ...extraOutputs },
      request,
      response,
      effects,
    };
  }
  const error = {
    error_code: o.error_kind === "timeout" ? "TIMEOUT_ERROR" : o.error_kind === "refused" ? "BAD_CONFIG" : "CUSTOM_ACTION_ERROR",
    error_reason: `${o.platform}.${o.action} failed: ${o.error}`,
    error_info: { ...where, http_status: o.http_status ?? null, vendor_code: o.vendor_code ?? null, error_kind: o.error_kind },
  } as const;
  const retry =
    o.error_kind === "rate_limited"
      ? o.retry_after_ms !== undefined
        ? { after_ms: o.retry_after_ms }
        : ("policy" as const)
      : o.error_kind === "unavailable" || o.error_kind === "timeout"
        ? ("policy" as const)
        : ("never" as const);
  return { kind: "failed", error, retry, request, response, effects };
}

/** An input problem (unknown platform, bad params, missing connection) as a final BAD_CONFIG failure. */
export function inputFailure(err: unknown): ActionResult {
  if (err instanceof AppError) return permanentFailure("BAD_CONFIG", err.message, { code: err.code, details: err.details });
  if (err instanceof CustomFieldError) return permanentFailure("BAD_CONFIG", err.message, { code: err.code, field: err.field });
  throw err;
}

/** Prepares and performs a call; every input error becomes a final failure. */
export async function runPrepared(
  ctx: ActionContext,
  prepare: () => Promise<PreparedCall>,
): Promise<ActionResult | EffectedOutcome> {
  let prepared: PreparedCall;
  try {
    prepared = await prepare();
    const outcome = await performCall(ctx.env, prepared, { idempotencyKey: ctx.idempotencyKey, now: ctx.now });
    return { ...outcome, effect: providerEffect(prepared, ctx) };
  } catch (err) {
    return inputFailure(err);
  }
}

export const isOutcome = (v: ActionResult | EffectedOutcome): v is EffectedOutcome => "exchanges" in v;

const IntegrationConfig = z.object({
  platform: z.string().min(1),
  action: z.string().min(1),
  connection_id: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  customFields: z.array(z.object({ field: z.string(), customFieldEnabled: z.boolean() })).optional(),
});
type IntegrationConfig = z.output<typeof IntegrationConfig>;

export const integrationAction = defineAction({
  types: ["integration"],
  config: IntegrationConfig,
  async run(ctx, cfg) {
    const result = await runPrepared(ctx, () => prepareIntegration(ctx, cfg));
    return isOutcome(result) ? outcomeToResult(result) : result;
  },
  // Preparing reads the connection and checks the params: what would run, or why it would fail before sending.
  effects: async (ctx, cfg) => [providerEffect(await prepareIntegration(ctx, cfg), ctx)],
});

function prepareIntegration(
  ctx: Pick<ActionContext, "env" | "orgId" | "triggerEvent" | "entity">,
  cfg: IntegrationConfig,
): Promise<PreparedCall> {
  const withFields = cfg.customFields ? { ...cfg.params, customFields: cfg.customFields } : cfg.params;
  const params = resolveCustomFields(withFields, callDataOf(ctx));
  return prepareCall(ctx.env, {
    orgId: ctx.orgId,
    platform: cfg.platform,
    action: cfg.action,
    connectionId: cfg.connection_id,
    params,
  });
}
