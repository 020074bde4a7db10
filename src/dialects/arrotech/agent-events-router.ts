import { z } from "@hono/zod-openapi";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, webhookRoute } from "../../api/router";
import { AppError } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { agentEvent, requireAgent } from "../../services/agents";
import { receiveSlackEvent } from "../../services/slack-events";
import { AGENTS_TAG, AgentParams, ExecuteResultSchema } from "./agents-schemas";

/**
 * Agents that run on events (docs/ai.md): `POST /v1/agents/{agent_id}/events` for any source (credentials, scope
 * automations:trigger), and the agent's Slack Events API request URL (`…/slack/events`, signed by Slack). Each event
 * is one run of the agent, `{{ trigger.event }}` in its workflow; a repeated event id starts nothing new.
 */

const TAGS = [AGENTS_TAG];

const EventBody = z
  .record(z.string().max(200), z.unknown())
  .refine(
    (v) => new TextEncoder().encode(JSON.stringify(v)).length <= LIMITS.MAX_WEBHOOK_BODY_BYTES,
    `An event may be at most ${LIMITS.MAX_WEBHOOK_BODY_BYTES} bytes`,
  )
  .openapi("ArrotechAgentEvent", {
    description: "What happened, any JSON object: the run sees it as `{{ trigger.event }}`",
    example: { text: "Customer ada@example.com was charged twice", channel: "support" },
  });

const eventRoute = scopedRoute("automations:trigger", {
  method: "post",
  path: "/{agent_id}/events",
  operationId: "arrotechAgentEvent",
  tags: TAGS,
  summary: "Start the agent on an event from any source; 409 when it is paused or its workflow cannot run",
  request: {
    params: AgentParams,
    query: z.object({
      source: z
        .string()
        .regex(/^[a-z0-9_.-]{1,50}$/)
        .optional()
        .openapi({ description: "Where the event comes from (default `api`): `{{ trigger.event_source }}`" }),
    }),
    headers: z.object({
      "idempotency-key": z
        .string()
        .min(1)
        .max(200)
        .optional()
        .openapi({ description: "The event's id: the same id again starts nothing new and answers the same execution" }),
    }),
    ...jsonBody(EventBody),
  },
  responses: {
    202: jsonResponse(ExecuteResultSchema, "The run started"),
    ...errorResponses(400, 404, 409),
  },
});

const SlackAnswerSchema = z
  .object({
    challenge: z.string().optional(),
    ok: z.boolean(),
    execution_id: z.string().optional(),
    ignored: z.string().optional(),
  })
  .openapi("ArrotechSlackEventAnswer");

const slackRoute = webhookRoute({
  method: "post",
  path: "/{agent_id}/slack/events",
  operationId: "arrotechAgentSlackEvents",
  tags: TAGS,
  summary: "The agent's Slack Events API request URL: signed by Slack (its app's signing secret), no API credentials",
  description:
    "Set it as the Request URL of a Slack app's Event Subscriptions. `url_verification` answers the challenge; an " +
    "`event_callback` (a message, an app mention) starts one run of the agent with the Slack event as `{{ trigger.event }}` " +
    "(`text`, `user`, `channel`, `ts`). Verified with `X-Slack-Signature` and `X-Slack-Request-Timestamp` (at most " +
    `${LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS} s old) against the signing secret of the organization's Slack connection. ` +
    "Bot messages, edits, other channels than `agent_config.slack_channels` and a paused agent are acknowledged and ignored.",
  request: { params: AgentParams, body: { content: { "application/json": { schema: { description: "Slack's JSON body" } } } } },
  responses: {
    200: jsonResponse(SlackAnswerSchema, "Handled"),
    ...errorResponses(400, 401, 404, 413, 415, 429),
  },
});

export const agentEventsRouter = createRouter()
  .openapi(eventRoute, async (c) => {
    const principal = c.get("principal");
    const agent = await requireAgent(c.env, principal.orgId, c.req.valid("param").agent_id);
    const res = await agentEvent(
      c.env,
      agent,
      { payload: c.req.valid("json"), from: c.req.valid("query").source ?? "api", id: c.req.valid("header")["idempotency-key"] },
      { id: principal.userId, email: principal.email },
    );
    return c.json(asResponse(ExecuteResultSchema, { agent_id: agent.id, execution_id: res.id, status: res.status }), 202);
  })
  .openapi(slackRoute, async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > LIMITS.MAX_WEBHOOK_BODY_BYTES)
      throw new AppError(413, "PAYLOAD_TOO_LARGE", `A Slack event may be at most ${LIMITS.MAX_WEBHOOK_BODY_BYTES} bytes`);
    const answer = await receiveSlackEvent(c.env, c.req.valid("param").agent_id, c.req.raw.headers, body, Date.now());
    if (answer.kind === "challenge") return c.json({ challenge: answer.challenge, ok: true }, 200);
    if (answer.kind === "started") return c.json({ ok: true, execution_id: answer.execution_id }, 200);
    return c.json({ ok: true, ignored: answer.reason }, 200);
  });
