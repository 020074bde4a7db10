import { z } from "@hono/zod-openapi";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import { RetryReqSchema } from "../schemas/executions";
import { EffectsLedgerSchema, EffectsQuery, RerunPreviewSchema } from "../schemas/reruns";
import { findExecutionRow } from "../services/executions";
import { executionClient } from "../services/object-clients";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/** The ledger of an execution's side effects and the preview of a rerun (docs/reruns.md). */

const TAGS = ["executions"];
const ExecParams = z.object({ execution_id: IdParam("execution_id") });

const effectsRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/executions/{execution_id}/effects",
  operationId: "getExecutionEffects",
  tags: TAGS,
  summary:
    "The ledger of the execution's side effects, in order: every request sent, provider tool called, record written, execution started, event emitted, with target, idempotency key, attempt, time and outcome (built from the attempt records)",
  request: { params: ExecParams, query: EffectsQuery },
  responses: {
    200: jsonResponse(EffectsLedgerSchema, "The ledger (one page) and its totals"),
    ...errorResponses(400, 401, 403, 404),
  },
});

const previewRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/executions/{execution_id}/{action_id}/retrigger:preview",
  operationId: "previewRetrigger",
  tags: TAGS,
  summary:
    "What the same retrigger would do, sending nothing: per action re-execute, reuse-output or skip, the effects it would send again (and whether they repeat an idempotency key already sent), totals per target",
  request: {
    params: ExecParams.extend({ action_id: IdParam("action_id") }),
    ...jsonBody(RetryReqSchema, false),
  },
  responses: { 200: jsonResponse(RerunPreviewSchema, "The preview"), ...errorResponses(400, 401, 403, 404, 409) },
});

async function requireExecution(env: Parameters<typeof findExecutionRow>[0], orgId: string, id: string): Promise<void> {
  if (!(await findExecutionRow(env, orgId, id))) throw notFound("Execution");
}

export const rerunsRouter = createRouter()
  .openapi(effectsRoute, async (c) => {
    const { execution_id } = c.req.valid("param");
    const q = c.req.valid("query");
    const orgId = c.get("principal").orgId;
    await requireExecution(c.env, orgId, execution_id);
    const ledger = await executionClient(c.env, execution_id).effects(orgId, {
      from: q.from ?? 0,
      size: q.size ?? LIMITS.MAX_LEDGER_PAGE,
    });
    // An execution waiting for a slot of its flow's concurrency_limit has no object yet, hence no effects.
    const empty = {
      execution_id,
      total: 0,
      from: 0,
      size: 0,
      next_from: null,
      effects: [],
      totals: { effects: 0, repeated_idempotency_keys: 0, model_tokens: 0, by_target: [] },
    };
    return c.json(asResponse(EffectsLedgerSchema, ledger ?? empty), 200);
  })
  .openapi(previewRoute, async (c) => {
    const { execution_id, action_id } = c.req.valid("param");
    const orgId = c.get("principal").orgId;
    await requireExecution(c.env, orgId, execution_id);
    const body = c.req.valid("json") ?? {};
    const res = await executionClient(c.env, execution_id).previewRetrigger(
      orgId,
      action_id,
      body.retry_strategy ?? "RETRY_AND_RESUME",
      body.condition_id,
      { reuse_outputs: body.reuse_outputs },
    );
    if (!res.ok) {
      const code = res.status === 404 ? "NOT_FOUND" : res.status === 409 ? "CONFLICT" : "BAD_REQUEST";
      throw new AppError(res.status, code, res.message);
    }
    return c.json(asResponse(RerunPreviewSchema, res.preview), 200);
  });
