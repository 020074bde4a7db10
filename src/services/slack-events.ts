import { verifySlackSignature } from "../engine/webhook-signatures";
import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { getAgentAnyOrg, recordAgentFireError, type AgentRow } from "../store/agents";
import { listConnectionRows } from "../store/connections";
import { agentEvent } from "./agents";
import { openConnection } from "./connections";

/**
 * An agent's Slack Events API request URL (`POST /v1/agents/{agent_id}/slack/events`): "monitor a channel". The
 * request is checked against the signing secret of the organization's Slack connection (the one the agent's
 * `agent_config.slack_connection_id` names, else the only one with a signing secret) and its timestamp (at most
 * WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS away). Slack's `url_verification` gets its challenge back; an
 * `event_callback` starts one run of the agent with the Slack event as `{{ trigger.event }}`, once per Slack
 * `event_id` (Slack redelivers when it gets no 2xx in 3 s). Messages from bots (the agent's own replies among
 * them) and edits start nothing, nor do channels outside `agent_config.slack_channels` when it lists some.
 */

export type SlackAnswer =
  { kind: "challenge"; challenge: string } | { kind: "started"; execution_id: string } | { kind: "ignored"; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The signing secrets the agent's requests may be signed with: its named connection's, or the org's only one. */
async function signingSecrets(env: Env, agent: AgentRow): Promise<string[]> {
  const named = agent.agent_config.slack_connection_id;
  const { results } = await listConnectionRows(env.DB, agent.org_id, { limit: LIMITS.MAX_CONNECTIONS_PER_ORG, offset: 0 });
  const slack = results.filter((c) => c.platform === "slack" && (typeof named !== "string" || c.id === named));
  const secrets: string[] = [];
  for (const row of slack) {
    const secret = (await openConnection(env, row)).signing_secret;
    if (typeof secret === "string" && secret) secrets.push(secret);
  }
  // Several Slack apps with secrets and no choice made: which one signs is unknown, so none is trusted.
  return typeof named === "string" || secrets.length === 1 ? secrets : [];
}

const unverified = (message: string) => new AppError(401, "INVALID_SIGNATURE", message);

export async function receiveSlackEvent(
  env: Env,
  agentId: string,
  headers: Headers,
  body: Uint8Array,
  now: number,
): Promise<SlackAnswer> {
  // No credentials: like a webhook, the URL is limited per agent before anything is read.
  const limit = await env.RL_TRIGGER_KEY?.limit({ key: `agent-slack:${agentId}` });
  if (limit && !limit.success)
    throw new AppError(429, "RATE_LIMITED", "Rate limit exceeded: calls of this agent's Slack request URL", [
      { message: `Retry after ${LIMITS.RATE_LIMIT_PERIOD_SECONDS} s` },
    ]);
  const agent = await getAgentAnyOrg(env.DB, agentId);
  if (!agent) throw notFound("Agent");
  const secrets = await signingSecrets(env, agent);
  if (secrets.length === 0)
    throw unverified("No signing secret to check this request with: give the organization's Slack connection a signing_secret");
  const verified = await verifySlackSignature(secrets, headers, body, now, LIMITS.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS);
  if (!verified.ok) throw unverified(verified.message);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new AppError(400, "INVALID_JSON", "The Slack request body is not JSON");
  }
  if (!isObject(payload)) throw new AppError(400, "INVALID_PAYLOAD", "The Slack request body must be a JSON object");
  if (payload.type === "url_verification" && typeof payload.challenge === "string")
    return { kind: "challenge", challenge: payload.challenge };
  if (payload.type !== "event_callback" || !isObject(payload.event))
    return { kind: "ignored", reason: `type ${String(payload.type)}` };
  const event = payload.event;
  if (event.bot_id !== undefined || event.subtype !== undefined) return { kind: "ignored", reason: "a bot's message or an edit" };
  const channels = agent.agent_config.slack_channels;
  if (Array.isArray(channels) && channels.length > 0 && !channels.includes(event.channel))
    return { kind: "ignored", reason: `channel ${String(event.channel)} is not one the agent monitors` };
  if (agent.status === "paused") return { kind: "ignored", reason: "the agent is paused" };
  try {
    const res = await agentEvent(env, agent, {
      payload: { ...event, team_id: payload.team_id ?? null },
      from: "slack",
      id: typeof payload.event_id === "string" ? payload.event_id : undefined,
    });
    return { kind: "started", execution_id: res.id };
  } catch (err) {
    // Slack must get its 2xx (it would redeliver); the agent keeps the reason (status: last_error).
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    await recordAgentFireError(env.DB, agent.org_id, agent.id, `Slack event not run: ${err.message}`, isoNow(now));
    return { kind: "ignored", reason: err.message };
  }
}
