import type { ModelMessage, ToolContent } from "ai";
import type { ApprovalState } from "../engine/execution/types";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { NO_USAGE, addUsage, type TokenUsage } from "../services/llm-usage";
import type { Caller, ToolDescriptor } from "../services/tools";
import { agentToolset, type AgentToolset } from "./agent-tools";
import { AGENT_INSTRUCTIONS } from "./prompts";
import { budgetRefusal, callStepModel, stepModel, type StepModelFailure, type StepModelSettings } from "./step-model";
import { checkStructured, repairPrompt, schemaInstruction } from "./structured";
import { runModelToolCall, type ModelToolCall, type ToolRun } from "./tools";

/**
 * One step of an ai_agent tool loop. A step does at most one outbound thing, a model call or a tool call, plus the
 * bookkeeping around it that needs no I/O (a refused or malformed call answered, a repair asked for); what the loop
 * carries from step to step is its progress (transcript, calls still to answer, usage, steps), which the execution
 * object commits with the step's result. So a crash mid-step repeats only that step, with the same idempotency
 * key (`<execution>:<action>:step-<n>`), and no tool call that answered is sent again. A write tool, with
 * `approval: "write_tools"`, is not run until a person decides: the step asks for approval and the next step,
 * after the decision, runs it or tells the model it was refused.
 */

export interface AgentLoopConfig extends StepModelSettings {
  instructions: string | undefined;
  input: string;
  tools: string[];
  max_steps: number;
  max_total_tokens?: number;
  output_schema?: Record<string, unknown>;
  approval: "auto" | "write_tools";
}

interface PendingCall {
  id: string;
  name: string;
  input: unknown;
  /** Why the model's call cannot run (malformed arguments); it is answered with this error. */
  invalid?: string;
}

/** One entry of the `steps` output: a model turn or a tool call, with what it said (trimmed). */
export type StepEntry =
  | {
      type: "model";
      step: number;
      text: string;
      tool_calls: { id: string; name: string; arguments: unknown }[];
      finish_reason: string;
      usage: TokenUsage;
    }
  | {
      type: "tool";
      step: number | null;
      id: string;
      name: string;
      arguments: unknown;
      success: boolean;
      result?: unknown;
      error?: string;
      approval?: "approved" | "rejected";
      comment?: string;
    };

export interface AgentProgress {
  v: 1;
  /** Outbound steps made so far: the next one's idempotency key ends in `step-<io>`. */
  io: number;
  messages: ModelMessage[];
  /** The last model turn's calls not yet answered, in order. */
  pending: PendingCall[];
  /** The answers of the current turn's calls so far (sent together once all are answered). */
  answered: ToolContent;
  steps: StepEntry[];
  usage: TokenUsage;
  model_calls: number;
  tool_calls: number;
  repairs: number;
  model?: string;
  provider?: string;
}

export interface AgentStepInput {
  env: Env;
  orgId: string;
  who: Caller;
  config: AgentLoopConfig;
  progress: unknown;
  approval?: ApprovalState;
  /** The action's idempotency key (`<execution>:<action>`); each step's calls add `:step-<n>`. */
  idempotencyKey: string;
}

export type AgentStepFailure =
  StepModelFailure | { code: "INVALID_OUTPUT"; reason: string; retry: "never"; info?: Record<string, unknown> };

export type AgentStepResult = (
  | { kind: "step"; progress: AgentProgress; approval?: { tool: string; tool_call_id: string } }
  | { kind: "done" }
  | { kind: "failed"; failure: AgentStepFailure }
) & { outputs: Record<string, unknown>; request: Record<string, unknown>; response: Record<string, unknown> };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const trim = (text: string) =>
  text.length > LIMITS.AI_AGENT_STEP_TEXT_CHARS ? `${text.slice(0, LIMITS.AI_AGENT_STEP_TEXT_CHARS)}…[truncated]` : text;
const trimValue = (v: unknown): unknown => {
  const json = JSON.stringify(v) ?? "null";
  return json.length > LIMITS.AI_AGENT_STEP_TEXT_CHARS ? trim(json) : v;
};

function initial(config: AgentLoopConfig): AgentProgress {
  return {
    v: 1,
    io: 0,
    messages: [{ role: "user", content: config.input }],
    pending: [],
    answered: [],
    steps: [],
    usage: NO_USAGE,
    model_calls: 0,
    tool_calls: 0,
    repairs: 0,
  };
}

// The progress is only ever written by this module (layout v1), stored by the object as it was given.
const readProgress = (raw: unknown, config: AgentLoopConfig): AgentProgress =>
  isObject(raw) && raw.v === 1 ? (structuredClone(raw) as unknown as AgentProgress) : initial(config);

/** What the action shows while it runs and when it ends: the steps (capped by the engine's output cap) and the usage. */
const progressOutputs = (p: AgentProgress): Record<string, unknown> => ({
  usage: p.usage,
  model: p.model ?? null,
  provider: p.provider ?? null,
  model_calls: p.model_calls,
  tool_calls: p.tool_calls,
  steps: p.steps,
});

/** Answers the first pending call (no I/O); once the turn's calls are all answered they go to the model together. */
function answer(p: AgentProgress, call: PendingCall, run: ToolRun): void {
  p.pending.shift();
  p.answered.push({
    type: "tool-result",
    toolCallId: call.id,
    toolName: call.name,
    output: run.success ? { type: "text", value: run.content } : { type: "error-text", value: run.content },
  });
  if (p.pending.length === 0) {
    p.messages.push({ role: "tool", content: p.answered });
    p.answered = [];
  }
}

const refusedRun = (error: string): ToolRun => ({ success: false, data: null, error, content: JSON.stringify({ error }) });

export async function agentStep(input: AgentStepInput): Promise<AgentStepResult> {
  const { config } = input;
  const p = readProgress(input.progress, config);
  const request: Record<string, unknown> = {};
  const response: Record<string, unknown> = {};
  const fail = (failure: AgentStepFailure): AgentStepResult => ({
    kind: "failed",
    failure,
    outputs: progressOutputs(p),
    request,
    response,
  });

  const tools = await agentToolset(input.env, input.orgId, config.tools);
  if (!tools.ok)
    return fail({
      code: "BAD_CONFIG",
      reason: `Unknown tool${tools.missing.length > 1 ? "s" : ""} ${tools.missing.join(", ")}: not in GET /v1/tools, or its platform has no connection`,
      retry: "never",
    });
  const toolset = tools.toolset;

  // Calls of the last turn first, in order; only one of them may go out in this step.
  while (p.pending.length > 0) {
    const call = p.pending[0];
    const tool = toolset.byName.get(call.name);
    if (call.invalid || !tool) {
      const error = call.invalid ?? `Unknown tool "${call.name}": use only the tools you were given`;
      p.steps.push({ type: "tool", step: null, id: call.id, name: call.name, arguments: call.input, success: false, error });
      answer(p, call, refusedRun(error));
      continue;
    }
    const decided = input.approval?.tool_call_id === call.id ? input.approval : undefined;
    if (config.approval === "write_tools" && tool.effect === "write" && !decided?.decision) {
      const pending = { tool: call.name, tool_call_id: call.id, arguments: call.input };
      Object.assign(request, { kind: "approval_request", ...pending });
      return {
        kind: "step",
        progress: p,
        approval: { tool: call.name, tool_call_id: call.id },
        outputs: { ...progressOutputs(p), pending_approval: pending },
        request,
        response,
      };
    }
    if (decided?.decision === "reject") {
      const error = `A person refused this call${decided.comment ? `: ${decided.comment}` : ""}. Do not try it again.`;
      p.steps.push({
        type: "tool",
        step: null,
        id: call.id,
        name: call.name,
        arguments: call.input,
        success: false,
        error,
        approval: "rejected",
        ...(decided.comment ? { comment: decided.comment } : {}),
      });
      answer(p, call, refusedRun(error));
      continue;
    }
    return runTool(input, p, call, tool, decided, request, response, fail);
  }
  return modelTurn(input, p, toolset, request, response, fail);
}

/** The step's one tool call, after the budgets allow it. */
async function runTool(
  input: AgentStepInput,
  p: AgentProgress,
  call: PendingCall,
  tool: ToolDescriptor,
  decided: ApprovalState | undefined,
  request: Record<string, unknown>,
  response: Record<string, unknown>,
  fail: (f: AgentStepFailure) => AgentStepResult,
): Promise<AgentStepResult> {
  const refused = await budgetRefusal(input.env, input.orgId, remaining(input.config, p));
  if (refused) return fail(refused);
  const key = `${input.idempotencyKey}:step-${p.io}`;
  Object.assign(request, {
    kind: "tool_call",
    step: p.io,
    tool: call.name,
    tool_call_id: call.id,
    arguments: call.input,
    idempotency_key: key,
    // A flow tool starts a run: the ledger lists it as an execution started (engine/reruns/side-effects.ts).
    ...(tool.kind === "flow" ? { flow_id: tool.action } : {}),
  });
  const modelCall: ModelToolCall = { toolCallId: call.id, toolName: call.name, input: call.input };
  // The step's own key reaches the vendor, so a retried attempt of the step is the same call to it.
  const run = await runModelToolCall(input.env, input.who, modelCall, key, "ai_agent", `tool:${key}`);
  Object.assign(response, { success: run.success, ...(run.success ? { data: trimValue(run.data) } : { error: run.error }) });
  p.steps.push({
    type: "tool",
    step: p.io,
    id: call.id,
    name: call.name,
    arguments: call.input,
    success: run.success,
    ...(run.success ? { result: trimValue(run.data) } : { error: trim(run.error ?? "failed") }),
    ...(decided?.decision === "approve" ? { approval: "approved" as const } : {}),
    ...(decided?.comment ? { comment: decided.comment } : {}),
  });
  p.io++;
  p.tool_calls++;
  answer(p, call, run);
  return { kind: "step", progress: p, outputs: progressOutputs(p), request, response };
}

const remaining = (config: AgentLoopConfig, p: AgentProgress): number | null =>
  config.max_total_tokens === undefined ? null : config.max_total_tokens - p.usage.total_tokens;

/** The step's one model call: its answer asks for tools (the next steps run them) or ends the loop. */
async function modelTurn(
  input: AgentStepInput,
  p: AgentProgress,
  toolset: AgentToolset,
  request: Record<string, unknown>,
  response: Record<string, unknown>,
  fail: (f: AgentStepFailure) => AgentStepResult,
): Promise<AgentStepResult> {
  const { config } = input;
  if (p.model_calls >= config.max_steps)
    return fail({
      code: "BUDGET_EXCEEDED",
      reason: `The agent made max_steps (${config.max_steps}) model calls and was still calling tools; nothing more is sent`,
      retry: "never",
    });
  const refused = await budgetRefusal(input.env, input.orgId, remaining(config, p));
  if (refused) return fail(refused);
  const resolved = await stepModel(input.env, input.orgId, config);
  if (!resolved.ok) return fail(resolved.failure);
  const target = resolved.model;
  p.model = target.name;
  p.provider = target.provider.provider;
  const key = `${input.idempotencyKey}:step-${p.io}`;
  Object.assign(request, { kind: "model_call", step: p.io, provider: p.provider, model: p.model, idempotency_key: key });
  const schema = config.output_schema;
  const instructions = [config.instructions || AGENT_INSTRUCTIONS, schema ? schemaInstruction(schema) : undefined]
    .filter(Boolean)
    .join("\n\n");
  const res = await callStepModel({
    env: input.env,
    orgId: input.orgId,
    target,
    instructions,
    messages: p.messages,
    tools: toolset.tools,
    settings: config,
    remainingTokens: remaining(config, p),
    idempotencyKey: key,
    budgetChecked: true,
  });
  if (!res.ok) return fail(res.failure);
  const out = res.out;
  p.usage = addUsage(p.usage, out.usage);
  p.model_calls++;
  const calls = out.toolCalls.slice(0, LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP);
  const extra = out.toolCalls.slice(LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP);
  Object.assign(response, {
    text: trim(out.text),
    tool_calls: out.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName })),
    finish_reason: out.finishReason,
    usage: out.usage,
  });
  p.steps.push({
    type: "model",
    step: p.io,
    text: trim(out.text),
    tool_calls: out.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, arguments: trimValue(c.input) })),
    finish_reason: out.finishReason,
    usage: out.usage,
  });
  p.io++;
  if (out.toolCalls.length > 0) {
    p.messages.push({
      role: "assistant",
      content: [
        ...(out.text ? [{ type: "text" as const, text: out.text }] : []),
        ...out.toolCalls.map((c) => ({
          type: "tool-call" as const,
          toolCallId: c.toolCallId,
          toolName: c.toolName,
          input: isObject(c.input) ? c.input : {},
        })),
      ],
    });
    p.pending = [
      ...calls.map((c) => ({
        id: c.toolCallId,
        name: c.toolName,
        input: c.input,
        ...(c.invalid || !isObject(c.input) ? { invalid: "Invalid tool call: the arguments must be a JSON object" } : {}),
      })),
      ...extra.map((c) => ({
        id: c.toolCallId,
        name: c.toolName,
        input: c.input,
        invalid: `Not run: at most ${LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP} tool calls per turn`,
      })),
    ];
    return { kind: "step", progress: p, outputs: progressOutputs(p), request, response };
  }
  const done = { ...progressOutputs(p), finish_reason: out.finishReason };
  if (!schema) return { kind: "done", outputs: { text: out.text, ...done }, request, response };
  const check = checkStructured(out.text, schema);
  if (check.ok) return { kind: "done", outputs: { object: check.value, ...done, repairs: p.repairs }, request, response };
  if (p.repairs >= LIMITS.LLM_MAX_REPAIR_ATTEMPTS)
    return fail({
      code: "INVALID_OUTPUT",
      reason: `The answer did not match the output_schema after ${LIMITS.LLM_MAX_REPAIR_ATTEMPTS} repairs (LLM_MAX_REPAIR_ATTEMPTS)`,
      retry: "never",
      info: { errors: check.errors, text: trim(out.text) },
    });
  p.repairs++;
  p.messages.push(
    { role: "assistant", content: out.text || "(empty answer)" },
    { role: "user", content: repairPrompt(check.errors) },
  );
  return { kind: "step", progress: p, outputs: progressOutputs(p), request, response };
}
