import type { Scope } from "../lib/principal";
import { LIMITS } from "../lib/limits";
import { agentStep, type AgentStepFailure } from "../llm/agent-loop";
import { AiAgentConfig } from "../schemas/actions/ai";
import { defineAction, permanentFailure, type ActionResult } from "./types";

/** The scopes of an ai_agent step's tool calls: those of the flow's own actions (start work, write records). */
const FLOW_STEP_SCOPES: ReadonlySet<Scope> = new Set<Scope>(["automations:trigger", "automations:write"]);

/**
 * `ai_agent`: a tool loop run one step at a time (llm/agent-loop.ts): each model call and each tool call is one run
 * of this action, its own attempt, committed before it is sent and after it answers, its progress stored between
 * steps. Settings it leaves unset come from its agent's `agent_config` (docs/ai.md).
 */
export const aiAgentAction = defineAction({
  types: ["ai_agent"],
  config: AiAgentConfig,
  async run(ctx, cfg): Promise<ActionResult> {
    if (ctx.iteration !== undefined)
      return permanentFailure("BAD_CONFIG", "An ai_agent step cannot loop; give the agent the list in its input");
    const agent = ctx.agent;
    const res = await agentStep({
      env: ctx.env,
      orgId: ctx.orgId,
      who: {
        orgId: ctx.orgId,
        actor: `execution:${ctx.executionId}`,
        userId: agent ? `agent:${agent.agent_id}` : `flow:${ctx.flowId}`,
        // What the flow's own actions may do (start work, write records); writes still follow the step's approval.
        scopes: FLOW_STEP_SCOPES,
        // A flow tool's run is this execution's child, one deeper in the chain (admission bounds the depth).
        parent: {
          executionId: ctx.executionId,
          actionId: ctx.actionId,
          depth: ctx.depth,
          ...(ctx.correlationKey !== undefined ? { correlationKey: ctx.correlationKey } : {}),
        },
      },
      config: {
        ...cfg,
        connection_id: cfg.connection_id ?? agent?.connection_id,
        model: cfg.model ?? agent?.model,
        instructions: cfg.instructions ?? agent?.instructions,
        tools: cfg.tools ?? agent?.tools ?? [],
        max_steps: cfg.max_steps ?? LIMITS.AI_AGENT_DEFAULT_STEPS,
      },
      progress: ctx.progress,
      approval: ctx.approval,
      idempotencyKey: ctx.idempotencyKey,
    });
    const { request, response, outputs } = res;
    if (res.kind === "done") return { kind: "success", outputs, request, response };
    if (res.kind === "failed") return failed(res.failure, outputs, request, response);
    if (JSON.stringify(res.progress).length > LIMITS.AI_AGENT_MAX_PROGRESS_BYTES)
      return failed(
        {
          code: "BUDGET_EXCEEDED",
          reason: `The agent's transcript outgrew AI_AGENT_MAX_PROGRESS_BYTES (${LIMITS.AI_AGENT_MAX_PROGRESS_BYTES})`,
          retry: "never",
        },
        outputs,
        request,
        response,
      );
    return {
      kind: "step",
      progress: res.progress,
      outputs,
      ...(res.approval ? { approval: res.approval } : {}),
      request,
      response,
    };
  },
});

function failed(f: AgentStepFailure, outputs: Record<string, unknown>, request: unknown, response: unknown): ActionResult {
  return {
    kind: "failed",
    error: { error_code: f.code, error_reason: f.reason, error_info: { ...f.info, usage: outputs.usage, steps: outputs.steps } },
    retry: f.retry,
    request,
    response,
  };
}
