import type { z } from "@hono/zod-openapi";
import { CustomFieldError, resolveCustomFields } from "../engine/custom-fields";
import { TemplateError, renderValue } from "../engine/templates";
import type { Env } from "../env";
import { AppError, forbidden } from "../lib/errors";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import type { ExecuteRequest } from "../schemas/integrations";
import { requireProvider } from "./connections";
import { requireAction } from "./integrations";
import { callerOf, coreByName, prepareToolAudited, runToolAudited } from "./tools";

/**
 * Plura's unified execute (seed 000), shared by `POST /v1/automation/execute` and the Plura dialect's
 * `POST /api/automation/execute`: one action of any integration (`automationType` = platform id, or `core` for
 * actions that need no provider), with custom fields resolved from `callData.fields` first and then Liquid
 * templates rendered over `{transcript, context, callData, user}`. JWT and API-key callers act as themselves; the
 * `x-key` superuser may act for any `userId` (`superuser: true`). A vendor failure is `success: false` in the
 * envelope; bad input throws an AppError (4xx) for the caller to render.
 */

export type ExecuteBody = z.output<typeof ExecuteRequest>;

export async function unifiedExecute(env: Env, p: Principal, body: ExecuteBody, requestId: string, started: number) {
  const superuser = p.kind === "superuser";
  if (!superuser && body.userId !== undefined && body.userId !== p.userId && body.userId !== p.email) {
    throw forbidden("Only the superuser (x-key) may act for another user");
  }
  const userId = superuser ? (body.userId ?? p.userId) : p.userId;
  const { action, connectionId } = body.nodeParams;
  const platform = body.automationType;
  if (platform === "core") {
    if (!coreByName.has(action)) {
      throw new AppError(
        400,
        "UNKNOWN_ACTION",
        `No core action "${action.slice(0, 100)}"; core actions: ${[...coreByName.keys()].join(", ")}`,
        [{ path: "nodeParams.action", message: "unknown core action" }],
      );
    }
  } else {
    requireAction(requireProvider(platform), action);
  }

  let params: Record<string, unknown>;
  try {
    params = resolveCustomFields(body.nodeParams.params, body.callData as { fields?: Record<string, unknown> } | undefined);
    const rendered = renderValue(params, {
      now: started,
      transcript: body.transcript,
      context: body.context,
      callData: body.callData,
      user: { id: userId, email: superuser ? undefined : p.email },
    });
    params = rendered.value as Record<string, unknown>;
  } catch (err) {
    if (err instanceof CustomFieldError) {
      throw new AppError(400, err.code, err.message, [
        { path: `nodeParams.params.${err.field}`, location: "json", message: err.message },
      ]);
    }
    if (err instanceof TemplateError) {
      throw new AppError(
        400,
        err.code,
        err.message,
        err.issues.map((i) => ({ path: `nodeParams.params.${i.path}`, location: "json", message: i.message })),
      );
    }
    throw err;
  }

  const who = callerOf(p, userId);
  const req = {
    name: platform === "core" ? action : `${platform}_${action}`,
    arguments: connectionId ? { ...params, connection_id: connectionId } : params,
    requestId,
    via: "automation.execute" as const,
    argPath: "nodeParams.params",
  };
  const result = await runToolAudited(env, who, req, await prepareToolAudited(env, who, req));
  return {
    requestId,
    nodeId: body.nodeId ?? null,
    automationType: platform,
    success: result.success,
    data: result.data ?? null,
    error: result.error,
    metadata: {
      action,
      userId,
      superuser,
      connectionId: result.connection_id,
      httpStatus: result.http_status,
      errorKind: result.error_kind,
      retryAfterMs: result.retry_after_ms,
      context: { ...body.context, userId, superuser },
    },
    timestamp: isoNow(),
    duration: Date.now() - started,
  };
}
