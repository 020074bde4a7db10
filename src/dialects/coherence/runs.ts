import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "../../api/router";
import { AppError } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { IdParam } from "../../schemas/common";
import { requireFlow } from "../../services/flows";
import {
  dryRunFlow,
  listFlowRuns,
  runDetail,
  runDetails,
  triggerRun,
  type RunStatus,
  type RunSubjectInput,
} from "../../services/runs";
import { toLog } from "./present";
import { COHERENCE_TAG, CohLogListSchema, CohLogsQuery, CohRunBody, CohTestSchema, CohTriggeredSchema, NOUN } from "./schemas";

/** Coherence's execution logs, dry-run test and manual trigger of an automation. */

const TAGS = [COHERENCE_TAG];
const IdParams = z.object({ id: IdParam("id").openapi({ description: "The automation's id" }) });
const runBody = jsonBody(CohRunBody, false);
const CohDisabledSchema = z
  .object({
    error: z.object({
      code: z.literal("automation_disabled"),
      message: z.string(),
      last_error: z.string().nullable(),
      details: z.array(z.record(z.string(), z.unknown())),
    }),
  })
  .openapi("CoherenceAutomationDisabled");
const LOG_TO_RUN: Record<string, RunStatus> = { success: "completed", failed: "failed", running: "running", skipped: "skipped" };

const logs = scopedRoute("automations:read", {
  method: "get",
  path: "/{id}/logs",
  operationId: "coherenceListLogs",
  tags: TAGS,
  summary: "Execution logs, newest first: status (success/failed), since, limit (max 100)",
  request: { params: IdParams, query: CohLogsQuery },
  responses: { 200: jsonResponse(CohLogListSchema, "Log entries"), ...errorResponses(400, 404) },
});
const test = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{id}/test",
  operationId: "coherenceTestAutomation",
  tags: TAGS,
  summary: "Dry run: validates conditions and shows what would happen, without executing actions",
  request: { params: IdParams, ...runBody },
  responses: { 200: jsonResponse(CohTestSchema, "What the automation would do"), ...errorResponses(400, 404) },
});
const trigger = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{id}/trigger",
  operationId: "coherenceTriggerAutomation",
  tags: TAGS,
  summary: "Manually trigger an automation on a record",
  description:
    `Answers the run as a log entry once it settles (or after ${LIMITS.MAX_SYNC_WAIT_MS} ms, status running). A disabled ` +
    "automation is a 409 `automation_disabled` with `last_error` (the circuit breaker's reason when it disabled it).",
  request: { params: IdParams, ...runBody },
  responses: {
    200: jsonResponse(CohTriggeredSchema, "The run"),
    ...errorResponses(400, 404),
    409: jsonResponse(CohDisabledSchema, "The automation is disabled (automation_disabled, with last_error)"),
  },
});

/** The document's record_not_found for an unknown record_id (the shared services say NOT_FOUND). */
async function onRecord<T>(body: RunSubjectInput, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AppError && err.status === 404 && body.record_id && err.message.startsWith("Record")) {
      throw new AppError(404, "record_not_found", `Record ${body.record_id.slice(0, 200)} does not exist`);
    }
    throw err;
  }
}

export const runsRouter = createRouter()
  .openapi(logs, async (c) => {
    const orgId = c.get("principal").orgId;
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    await requireFlow(c.env, orgId, id, NOUN);
    const limit = q.limit ?? LIMITS.DEFAULT_PAGE_SIZE;
    const page = q.page ?? 1;
    const rows = await listFlowRuns(c.env, orgId, id, {
      status: q.status ? LOG_TO_RUN[q.status] : undefined,
      since: q.since,
      limit,
      offset: (page - 1) * limit,
    });
    const details = await runDetails(
      c.env,
      orgId,
      rows.results.map((r) => r.id),
    );
    const data = details.flatMap((d) => (d ? [toLog(id, d)] : []));
    return c.json(asResponse(CohLogListSchema, { data, meta: { total: rows.total, page, per_page: limit } }), 200);
  })
  .openapi(test, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json") ?? {};
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").id, NOUN);
    const result = await onRecord(body, () => dryRunFlow(c.env, p, flow, body));
    const data = {
      would_execute: result.would_execute,
      conditions_passed: result.conditions_passed,
      conditions_evaluated: result.conditions_evaluated,
      actions_preview: result.actions_preview.map((a, i) => ({
        type: a.action_type,
        config: a.rendered_config ?? (flow.actions[i] as { config?: unknown }).config ?? {},
      })),
    };
    return c.json(asResponse(CohTestSchema, { data }), 200);
  })
  .openapi(trigger, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json") ?? {};
    const flow = await requireFlow(c.env, p.orgId, c.req.valid("param").id, NOUN);
    if (!flow.enabled) {
      const d = flow.disable_details;
      const message =
        d?.disabled_by === "system" ? (d.reason ?? "Automation disabled after repeated failures") : "Automation is disabled";
      const error = { code: "automation_disabled" as const, message, last_error: d?.last_error ?? null, details: [] };
      return c.json({ error }, 409);
    }
    const run = await onRecord(body, () => triggerRun(c.env, p, flow.id, body));
    const detail = await runDetail(c.env, p.orgId, run.run_id);
    if (!detail) throw new AppError(404, "NOT_FOUND", "Run not found");
    return c.json(asResponse(CohTriggeredSchema, { data: { ...toLog(flow.id, detail), run_id: run.run_id } }), 200);
  });
