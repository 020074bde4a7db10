import { relationRefs } from "../engine/relations";
import { signStandardWebhook } from "../engine/webhook-signatures";
import { LIMITS } from "../lib/limits";
import { SecretError } from "../lib/secrets";
import { toSnapshot } from "../services/records";
import { openWebhookTarget, type OpenedWebhookTarget } from "../services/webhook-targets";
import { WEBHOOK_TARGETS, getResource } from "../store/platform-resources";
import { getRecord, getRecordsByIds } from "../store/records";
import { performHttpCall } from "./http-call";
import { httpEffect, type SideEffect } from "../engine/reruns/side-effects";
import { permanentFailure, type ActionContext, type ActionResult, type EffectContext } from "./types";

/** The request a delivery to webhook target `targetId` would send (none when the target is gone: the run fails first). */
export async function plannedTargetEffect(ctx: EffectContext, targetId: string): Promise<SideEffect[]> {
  const row = await getResource(ctx.env.DB, WEBHOOK_TARGETS, ctx.orgId, targetId);
  return row ? [httpEffect("POST", row.url, ctx.idempotencyKey)] : [];
}

/**
 * Delivery to a webhook target (`target_webhook_id` of trigger-webhook and inform-erp): one POST of the
 * execution's entity as it is now, and its relations of the schemas in `entity_sources`, in epilot's webhook event shape
 * (`{metadata, entity, relations}`), with the target's auth and headers, through the outbound policy, recorded
 * as the action's attempt. The event id is the action's idempotency key: a retried attempt is the same event.
 */

export interface TargetDelivery {
  targetId: string;
  entitySources?: string[];
  /** Keep the target's answer (status, headers, body) as the action's outputs. */
  sync?: boolean;
  action: "trigger-webhook" | "inform-erp";
  timeoutMs?: number;
}

/** The execution's record as it is now (earlier actions may have changed it), else its snapshot from the start. */
async function currentEntity(ctx: ActionContext): Promise<Record<string, unknown> | null> {
  const schema = ctx.entity?._schema;
  if (!ctx.entityId || typeof schema !== "string") return ctx.entity;
  const row = await getRecord(ctx.env.DB, ctx.orgId, schema, ctx.entityId);
  return row ? (toSnapshot(row) as Record<string, unknown>) : ctx.entity;
}

/** Related records of the entity whose schema is one of `schemas`, as snapshots (at most MAX_WEBHOOK_RELATIONS). */
async function relationsOf(
  ctx: ActionContext,
  entity: Record<string, unknown> | null,
  schemas: string[],
): Promise<Record<string, unknown>[]> {
  if (schemas.length === 0) return [];
  const ids = relationRefs(entity).map((r) => r.entity_id);
  const rows = await getRecordsByIds(ctx.env.DB, ctx.orgId, [...new Set(ids)]);
  return rows
    .filter((r) => schemas.includes(r.schema))
    .slice(0, LIMITS.MAX_WEBHOOK_RELATIONS)
    .map(toSnapshot);
}

async function authHeaders(ctx: ActionContext, target: OpenedWebhookTarget, body: string): Promise<Record<string, string>> {
  const { auth } = target;
  switch (auth.type) {
    case "basic":
      return { authorization: `Basic ${btoa(`${auth.username ?? ""}:${auth.secret ?? ""}`)}` };
    case "bearer":
      return { authorization: `Bearer ${auth.secret ?? ""}` };
    case "api_key":
      return { [auth.header ?? "x-api-key"]: auth.secret ?? "" };
    case "standard_webhooks": {
      const timestamp = Math.floor(ctx.now / 1000);
      return {
        "webhook-id": ctx.idempotencyKey,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signStandardWebhook(auth.secret ?? "", ctx.idempotencyKey, timestamp, body),
      };
    }
    default:
      return {};
  }
}

const flowNameOf = (ctx: ActionContext): string | undefined => {
  const execution = ctx.templateContext().execution as { flow_name?: unknown } | undefined;
  return typeof execution?.flow_name === "string" ? execution.flow_name : undefined;
};

export async function deliverToTarget(ctx: ActionContext, d: TargetDelivery): Promise<ActionResult> {
  const row = await getResource(ctx.env.DB, WEBHOOK_TARGETS, ctx.orgId, d.targetId);
  if (!row) {
    return permanentFailure("BAD_CONFIG", `Webhook target ${d.targetId} does not exist (deleted after the flow was saved?)`, {
      code: "WEBHOOK_TARGET_NOT_FOUND",
      target_webhook_id: d.targetId,
    });
  }
  let target: OpenedWebhookTarget;
  try {
    target = await openWebhookTarget(ctx.env, row);
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    return permanentFailure("BAD_CONFIG", `The secret of webhook target ${d.targetId} cannot be read: ${err.message}`, {
      code: "WEBHOOK_TARGET_UNREADABLE",
      target_webhook_id: d.targetId,
    });
  }
  const entity = await currentEntity(ctx);
  const payload = {
    metadata: {
      action: d.action,
      origin: "automation",
      event_id: ctx.idempotencyKey,
      webhook_id: row.id,
      webhook_name: row.name,
      organization_id: ctx.orgId,
      automation_flow_id: ctx.flowId,
      automation_name: flowNameOf(ctx),
      execution_id: ctx.executionId,
      action_id: ctx.actionId,
      creation_timestamp: new Date(ctx.now).toISOString(),
    },
    entity,
    relations: await relationsOf(ctx, entity, d.entitySources ?? []),
  };
  const body = JSON.stringify(payload);
  const auth = await authHeaders(ctx, target, body);
  const result = await performHttpCall(
    ctx,
    {
      url: row.url,
      method: "POST",
      headers: { ...row.headers, "content-type": "application/json" },
      body,
      timeout_ms: d.timeoutMs,
    },
    "TRIGGER_WEBHOOK_ERROR",
    auth,
  );
  // An API key's header name is the target's own: mask it in the run history like the well-known ones.
  if (target.auth.type === "api_key" && target.auth.header) {
    const req = result.request as { headers?: Record<string, string> } | undefined;
    if (req?.headers?.[target.auth.header] !== undefined) req.headers[target.auth.header] = "[redacted]";
  }
  if (result.kind !== "success") return result;
  const answer = result.outputs as { status: number; headers: unknown; body: unknown; truncated?: boolean };
  const outputs = {
    webhook_id: row.id,
    event_id: ctx.idempotencyKey,
    status: answer.status,
    ...(d.sync ? { headers: answer.headers, body: answer.body, truncated: answer.truncated } : {}),
  };
  return { ...result, outputs };
}
