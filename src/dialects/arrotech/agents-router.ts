import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute, triggerRoute } from "../../api/router";
import { badRequest, notFound } from "../../lib/errors";
import { LIMITS } from "../../lib/limits";
import { agentAnalytics, agentHealth } from "../../services/agent-analytics";
import {
  createAgent,
  executeAgent,
  listOrgAgents,
  removeAgent,
  requireAgent,
  scheduleAgent,
  setAgentRunning,
} from "../../services/agents";
import {
  AGENTS_TAG,
  AgentCreateSchema,
  AgentFromTemplateSchema,
  AgentListSchema,
  AgentParams,
  AgentSchema,
  AgentStatusSchema,
  AgentTemplateListSchema,
  AnalyticsQuery,
  AnalyticsSchema,
  ExecuteBodySchema,
  ExecuteResultSchema,
  ScheduleBodySchema,
  TemplateParams,
} from "./agents-schemas";
import { AGENT_TEMPLATES, agentTemplate } from "./agents-templates";
import { agentLens, presentAgent, presentStatus } from "./agents-translate";

/**
 * Arrotech Hub's agents (seed 002) at `/v1/agents`, and its agent templates at `/v1/agent-templates`: a workflow
 * run on a schedule (the engine's schedule objects) or by hand, with status and per-day analytics. docs/agents.md.
 */

export const AGENTS_BASE = "/v1/agents";
export const AGENT_TEMPLATES_BASE = "/v1/agent-templates";

const TAGS = [AGENTS_TAG];
const params = { params: AgentParams };

const create = scopedRoute("automations:write", {
  method: "post",
  path: "/",
  operationId: "arrotechCreateAgent",
  tags: TAGS,
  summary: "Deploy an agent: a workflow of the organization run on a schedule or by hand, with its own agent_config",
  request: jsonBody(AgentCreateSchema),
  responses: { 201: jsonResponse(AgentSchema, "The agent"), ...errorResponses(404, 409) },
});

const list = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "arrotechListAgents",
  tags: TAGS,
  summary: `The organization's agents, newest first (at most ${LIMITS.MAX_AGENTS_PER_ORG})`,
  responses: { 200: jsonResponse(AgentListSchema, "Agents") },
});

const get = scopedRoute("automations:read", {
  method: "get",
  path: "/{agent_id}",
  operationId: "arrotechGetAgent",
  tags: TAGS,
  summary: "One agent",
  request: params,
  responses: { 200: jsonResponse(AgentSchema, "The agent"), ...errorResponses(404) },
});

const remove = scopedRoute("automations:write", {
  method: "delete",
  path: "/{agent_id}",
  operationId: "arrotechDeleteAgent",
  tags: TAGS,
  summary: "Delete an agent: its schedule stops; the executions it started stay",
  request: params,
  responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
});

const schedule = scopedRoute("automations:write", {
  method: "post",
  path: "/{agent_id}/schedule",
  operationId: "arrotechScheduleAgent",
  tags: TAGS,
  summary: "Set the agent's schedule: `interval` in seconds or a 5-field `cron` (with `timezone`), and a `catch_up` policy",
  description: "A new schedule runs from now; posting the same schedule again keeps the next run. A paused agent stays paused.",
  request: { ...params, ...jsonBody(ScheduleBodySchema) },
  responses: { 200: jsonResponse(AgentSchema, "The agent"), ...errorResponses(404) },
});

const status = scopedRoute("automations:read", {
  method: "get",
  path: "/{agent_id}/status",
  operationId: "arrotechGetAgentStatus",
  tags: TAGS,
  summary: "Health: runs, successes, success rate, the last error, the last and the next run",
  request: params,
  responses: { 200: jsonResponse(AgentStatusSchema, "The agent's status"), ...errorResponses(404) },
});

const pause = scopedRoute("automations:write", {
  method: "post",
  path: "/{agent_id}/pause",
  operationId: "arrotechPauseAgent",
  tags: TAGS,
  summary: "Pause: the agent never fires until resumed (manual execute still works)",
  request: params,
  responses: { 200: jsonResponse(AgentSchema, "The paused agent"), ...errorResponses(404) },
});

const resume = scopedRoute("automations:write", {
  method: "post",
  path: "/{agent_id}/resume",
  operationId: "arrotechResumeAgent",
  tags: TAGS,
  summary: "Resume: the agent fires at its next due time; runs missed while paused follow its catch_up policy",
  request: params,
  responses: { 200: jsonResponse(AgentSchema, "The resumed agent"), ...errorResponses(404) },
});

const execute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/{agent_id}/execute",
  operationId: "arrotechExecuteAgent",
  tags: TAGS,
  summary:
    "Run the agent now with optional input variables (merged over agent_config); 409 when its workflow is disabled or gone",
  request: { ...params, ...jsonBody(ExecuteBodySchema, false) },
  responses: { 202: jsonResponse(ExecuteResultSchema, "The execution started"), ...errorResponses(404, 409) },
});

const analytics = scopedRoute("automations:read", {
  method: "get",
  path: "/{agent_id}/analytics",
  operationId: "arrotechGetAgentAnalytics",
  tags: TAGS,
  summary: "Runs, successes, failures and mean duration per UTC day over the last `days` days (days without runs as zeros)",
  request: { ...params, query: AnalyticsQuery },
  responses: { 200: jsonResponse(AnalyticsSchema, "Analytics"), ...errorResponses(404) },
});

export const agentsRouter = createRouter()
  .openapi(create, async (c) => {
    const agent = await createAgent(c.env, c.get("principal"), agentLens.write(c.req.valid("json")));
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 201);
  })
  .openapi(list, async (c) => {
    const agents = await listOrgAgents(c.env, c.get("principal").orgId);
    return c.json(asResponse(AgentListSchema, agents.map(presentAgent)), 200);
  })
  .openapi(get, async (c) => {
    const agent = await requireAgent(c.env, c.get("principal").orgId, c.req.valid("param").agent_id);
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 200);
  })
  .openapi(remove, async (c) => {
    await removeAgent(c.env, c.get("principal").orgId, c.req.valid("param").agent_id);
    return c.body(null, 204);
  })
  .openapi(schedule, async (c) => {
    const { agent_id } = c.req.valid("param");
    const input = c.req.valid("json");
    if (input.agent_id !== undefined && input.agent_id !== agent_id) {
      throw badRequest("agent_id in the body does not match the path", [
        { path: "agent_id", location: "json", message: "must equal the agent_id of the path" },
      ]);
    }
    const agent = await scheduleAgent(c.env, c.get("principal").orgId, agent_id, input.schedule_config);
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 200);
  })
  .openapi(status, async (c) => {
    const agent = await requireAgent(c.env, c.get("principal").orgId, c.req.valid("param").agent_id);
    return c.json(asResponse(AgentStatusSchema, presentStatus(await agentHealth(c.env, agent))), 200);
  })
  .openapi(pause, async (c) => {
    const agent = await setAgentRunning(c.env, c.get("principal").orgId, c.req.valid("param").agent_id, "paused");
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 200);
  })
  .openapi(resume, async (c) => {
    const agent = await setAgentRunning(c.env, c.get("principal").orgId, c.req.valid("param").agent_id, "active");
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 200);
  })
  .openapi(execute, async (c) => {
    const res = await executeAgent(c.env, c.get("principal"), c.req.valid("param").agent_id, c.req.valid("json") ?? undefined);
    return c.json({ agent_id: res.agent.id, execution_id: res.id, status: res.status }, 202);
  })
  .openapi(analytics, async (c) => {
    const agent = await requireAgent(c.env, c.get("principal").orgId, c.req.valid("param").agent_id);
    const result = await agentAnalytics(c.env, agent, c.req.valid("query").days);
    return c.json(asResponse(AnalyticsSchema, { agent_id: agent.id, ...result }), 200);
  });

const listTemplates = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "arrotechListAgentTemplates",
  tags: TAGS,
  summary: "Agent templates: a default schedule and agent_config for a kind of workflow",
  responses: { 200: jsonResponse(AgentTemplateListSchema, "Templates") },
});

const useTemplate = scopedRoute("automations:write", {
  method: "post",
  path: "/{template_id}/agents",
  operationId: "arrotechCreateAgentFromTemplate",
  tags: TAGS,
  summary: "Create an agent from a template for one of the organization's workflows",
  request: { params: TemplateParams, ...jsonBody(AgentFromTemplateSchema) },
  responses: { 201: jsonResponse(AgentSchema, "The agent"), ...errorResponses(404, 409) },
});

export const agentTemplatesRouter = createRouter()
  .openapi(listTemplates, (c) => c.json(asResponse(AgentTemplateListSchema, AGENT_TEMPLATES), 200))
  .openapi(useTemplate, async (c) => {
    const template = agentTemplate(c.req.valid("param").template_id);
    if (!template) throw notFound("Agent template");
    const input = c.req.valid("json");
    const agent = await createAgent(
      c.env,
      c.get("principal"),
      agentLens.write({
        workflow_id: input.workflow_id,
        name: input.name ?? template.name,
        agent_config: { ...template.default_agent_config, ...input.agent_config },
        schedule_config: input.schedule_config ?? template.default_schedule_config,
        template_id: template.id,
      }),
    );
    return c.json(asResponse(AgentSchema, presentAgent(agent)), 201);
  });
