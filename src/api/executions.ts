import { z } from "@hono/zod-openapi";
import { toAutomationExecution } from "../engine/execution/views";
import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { IdParam } from "../schemas/common";
import {
  ActionScheduleRespSchema,
  ApprovalReqSchema,
  AutomationExecutionSchema,
  GetExecutionsQuery,
  GetExecutionsRespSchema,
  ResumeReqSchema,
  ResumeRespSchema,
  RetryReqSchema,
  StartExecutionRequestSchema,
} from "../schemas/executions";
import { findExecutionRow, startExecution, startedBy } from "../services/executions";
import { executionClient } from "../services/object-clients";
import { cancelExecution, readExecution } from "../services/queued-executions";
import { getExecutionRowAnyOrg, listExecutions, type ExecutionRow } from "../store/executions";
import type { ControlResult, ExecutionSnapshot } from "../contracts/execution-object";
import { hasScope, type Principal } from "../lib/principal";
import {
  createRouter,
  errorResponses,
  publicRoute,
  scopedRoute,
  asResponse,
  triggerRoute,
  jsonBody,
  jsonResponse,
} from "./router";

const TAGS = ["executions"];
const ExecParams = z.object({ execution_id: IdParam("execution_id") });

/** The D1 index row of the org's execution, or 404. */
async function requireRow(env: Env, orgId: string, id: string): Promise<ExecutionRow> {
  const row = await findExecutionRow(env, orgId, id);
  if (!row) throw notFound("Execution");
  return row;
}

/** The epilot execution document; its `resume_token` only for a principal that may resume (automations:trigger). */
function present(snap: ExecutionSnapshot, principal: Principal | null) {
  const doc = toAutomationExecution(snap.state, snap.detail);
  return snap.resume_token && principal && hasScope(principal, "automations:trigger")
    ? { ...doc, resume_token: snap.resume_token }
    : doc;
}

async function fullExecution(env: Env, id: string, principal: Principal) {
  // From the object, or from the admission queue while the execution waits for a slot.
  const snap = await readExecution(env, principal.orgId, id);
  if (!snap) throw notFound("Execution");
  return present(snap, principal);
}

function unwrap(res: ControlResult) {
  if (!res.ok)
    throw new AppError(
      res.status,
      res.status === 404 ? "NOT_FOUND" : res.status === 409 ? "CONFLICT" : "BAD_REQUEST",
      res.message,
    );
  return res.snapshot;
}

/** A list item from the index row (per-action detail is read from the object on getExecution). */
function fromRow(r: ExecutionRow) {
  return {
    id: r.id,
    execution_status: r.status,
    status: r.status,
    entity_id: r.entity_id,
    org_id: r.org_id,
    flow_id: r.flow_id,
    flow_name: r.flow_name,
    version: r.flow_version,
    created_at: r.created_at,
    updated_at: r.updated_at,
    ...(r.current_action_id ? { current_action_id: r.current_action_id } : {}),
    ...(r.correlation_key !== null ? { correlation_key: r.correlation_key } : {}),
    ...(r.parent_execution_id ? { parent_execution_id: r.parent_execution_id } : {}),
    actions: r.actions_summary,
    ...(r.last_error ? { error_output: r.last_error } : {}),
  };
}

const startRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/executions",
  operationId: "startExecution",
  tags: TAGS,
  summary:
    "Start an execution of a flow for an entity. An `Idempotency-Key` header makes retries return the same execution for 24 hours.",
  request: {
    headers: z.object({ "idempotency-key": z.string().min(1).max(200).optional() }),
    ...jsonBody(StartExecutionRequestSchema),
  },
  responses: { 201: jsonResponse(AutomationExecutionSchema, "Started"), ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
});

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/executions",
  operationId: "getExecutions",
  tags: TAGS,
  summary: "List executions, newest first (per-action detail is in getExecution)",
  request: { query: GetExecutionsQuery },
  responses: { 200: jsonResponse(GetExecutionsRespSchema, "Executions"), ...errorResponses(400, 401, 403) },
});

const getRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/executions/{execution_id}",
  operationId: "getExecution",
  tags: TAGS,
  summary: "Get an execution with the state of every action",
  request: { params: ExecParams },
  responses: { 200: jsonResponse(AutomationExecutionSchema, "The execution"), ...errorResponses(401, 403, 404) },
});

const cancelRoute = scopedRoute("automations:trigger", {
  method: "delete",
  path: "/executions/{execution_id}",
  operationId: "cancelExecution",
  tags: TAGS,
  summary: "Cancel an execution: its timers are cleared and pending actions cancelled",
  request: { params: ExecParams },
  responses: { 200: jsonResponse(AutomationExecutionSchema, "The cancelled execution"), ...errorResponses(401, 403, 404, 409) },
});

const retriggerRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/executions/{execution_id}/{action_id}/retrigger",
  operationId: "retriggerAction",
  tags: TAGS,
  summary:
    "Rerun from an action: a failed or stuck one at any time, any other once the execution ended (RETRY_AND_RESUME by default); `reuse_outputs` keeps actions' recorded outputs instead of sending them again. Preview it first with retrigger:preview (docs/reruns.md)",
  request: {
    params: ExecParams.extend({ action_id: IdParam("action_id") }),
    ...jsonBody(RetryReqSchema, false),
  },
  responses: { 200: jsonResponse(AutomationExecutionSchema, "Action re-triggered"), ...errorResponses(400, 401, 403, 404, 409) },
});

const approvalRoute = scopedRoute("automations:trigger", {
  method: "post",
  path: "/executions/{execution_id}/{action_id}/approval",
  operationId: "decideApproval",
  tags: TAGS,
  summary:
    "Approve or reject the tool call an ai_agent action waits for (`waiting_for_approval`): approved, it runs; rejected, the model is told; the loop goes on",
  request: {
    params: ExecParams.extend({ action_id: IdParam("action_id") }),
    ...jsonBody(ApprovalReqSchema),
  },
  responses: {
    200: jsonResponse(AutomationExecutionSchema, "Decided; the execution runs on"),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const resumeRoute = publicRoute({
  method: "post",
  path: "/public/executions:resume",
  operationId: "resumeExecutionWithToken",
  tags: TAGS,
  summary: "Resume a paused execution with its resume token (authenticated by the token alone; single use)",
  request: jsonBody(ResumeReqSchema),
  responses: { 200: jsonResponse(ResumeRespSchema, "Resumed"), ...errorResponses(400, 404, 413, 415) },
});

const cancelScheduleRoute = scopedRoute("automations:trigger", {
  method: "delete",
  path: "/executions/{execution_id}/schedules/{schedule_id}",
  operationId: "cancelSchedule",
  tags: TAGS,
  summary: "Cancel a schedule of an execution: the actions waiting for it are cancelled, the rest continue",
  request: { params: ExecParams.extend({ schedule_id: IdParam("schedule_id") }) },
  responses: { 200: jsonResponse(ActionScheduleRespSchema, "The cancelled schedule"), ...errorResponses(401, 403, 404, 409) },
});

export const executionsRouter = createRouter()
  .openapi(startRoute, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    const res = await startExecution(c.env, {
      orgId: p.orgId,
      flow: body.flow_id,
      entityId: body.entity_id,
      workflowContext: body.workflow_context,
      idempotencyKey: c.req.valid("header")["idempotency-key"],
      triggerEvent: { type: "manual", org_id: p.orgId, entity_id: body.entity_id, caller: { actor: p.actor } },
      user: startedBy(p),
    });
    // The object answered start() with the execution: no second call to read it back.
    const doc = res.snapshot ? present(res.snapshot, p) : await fullExecution(c.env, res.id, p);
    return c.json(asResponse(AutomationExecutionSchema, doc), 201);
  })
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await listExecutions(c.env.DB, {
      orgId: c.get("principal").orgId,
      entityId: q.entity_id,
      flowId: q.flow_id,
      correlationKey: q.correlation_key,
      limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: q.from ?? 0,
    });
    return c.json(asResponse(GetExecutionsRespSchema, { total: page.total, results: page.results.map(fromRow) }), 200);
  })
  .openapi(getRoute, async (c) => {
    const { execution_id } = c.req.valid("param");
    await requireRow(c.env, c.get("principal").orgId, execution_id);
    return c.json(asResponse(AutomationExecutionSchema, await fullExecution(c.env, execution_id, c.get("principal"))), 200);
  })
  .openapi(cancelRoute, async (c) => {
    const { execution_id } = c.req.valid("param");
    await requireRow(c.env, c.get("principal").orgId, execution_id);
    const p = c.get("principal");
    const snap = unwrap(await cancelExecution(c.env, p.orgId, execution_id, `Cancelled by ${p.actor}`));
    return c.json(asResponse(AutomationExecutionSchema, present(snap, c.get("principal"))), 200);
  })
  .openapi(retriggerRoute, async (c) => {
    const { execution_id, action_id } = c.req.valid("param");
    await requireRow(c.env, c.get("principal").orgId, execution_id);
    const body = c.req.valid("json") ?? {};
    const strategy = body.retry_strategy ?? "RETRY_AND_RESUME";
    const p = c.get("principal");
    const snap = unwrap(
      await executionClient(c.env, execution_id).retrigger(p.orgId, action_id, strategy, body.condition_id, {
        reuse_outputs: body.reuse_outputs,
      }),
    );
    return c.json(asResponse(AutomationExecutionSchema, present(snap, p)), 200);
  })
  .openapi(approvalRoute, async (c) => {
    const { execution_id, action_id } = c.req.valid("param");
    const principal = c.get("principal");
    await requireRow(c.env, principal.orgId, execution_id);
    const { decision, comment } = c.req.valid("json");
    const by = principal.email ?? principal.actor;
    const snap = unwrap(
      await executionClient(c.env, execution_id).decideApproval(principal.orgId, action_id, decision, comment, by),
    );
    return c.json(asResponse(AutomationExecutionSchema, present(snap, principal)), 200);
  })
  .openapi(resumeRoute, async (c) => {
    const { resume_token } = c.req.valid("json");
    const executionId = resume_token.split(".", 1)[0];
    const row = await getExecutionRowAnyOrg(c.env.DB, executionId);
    if (!row || !resume_token.includes(".")) throw notFound("Resume token");
    // The token names the execution; its index row names the organization the object then checks.
    const res = await executionClient(c.env, executionId).resume(row.org_id, resume_token);
    const doc = toAutomationExecution(unwrap(res).state);
    const action = (a: (typeof doc.actions)[number]) => ({
      id: a.id,
      type: a.type,
      ...(a.name !== undefined ? { name: a.name } : {}),
      execution_status: a.execution_status,
    });
    const execution = {
      id: doc.id,
      status: doc.status,
      entity_id: doc.entity_id,
      org_id: doc.org_id,
      flow_id: doc.flow_id,
      actions: doc.actions.map(action),
    };
    const resumed = doc.actions.find((a) => a.id === res.resumed_action_id)!;
    return c.json(asResponse(ResumeRespSchema, { execution, resumedAction: action(resumed) }), 200);
  })
  .openapi(cancelScheduleRoute, async (c) => {
    const { execution_id, schedule_id } = c.req.valid("param");
    await requireRow(c.env, c.get("principal").orgId, execution_id);
    const snap = unwrap(await executionClient(c.env, execution_id).cancelSchedule(c.get("principal").orgId, schedule_id));
    const schedule = snap.state.flow.schedules?.find((s) => s.id === schedule_id);
    return c.json(asResponse(ActionScheduleRespSchema, { ...schedule, cancelled: true }), 200);
  });
