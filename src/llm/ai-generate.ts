import type { ModelMessage } from "ai";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { NO_USAGE, addUsage, type TokenUsage } from "../services/llm-usage";
import { checkStructured, repairPrompt, schemaInstruction } from "./structured";
import { callStepModel, stepModel, type StepModelFailure, type StepModelSettings } from "./step-model";

/**
 * The ai_generate step: one answer from a model, as text, or as an object matching the step's output_schema. An
 * invalid object is sent back with the errors at most LLM_MAX_REPAIR_ATTEMPTS times; then the step fails with
 * INVALID_OUTPUT. Every call of the step carries its idempotency key (`:repair-<n>` for the repairs) and is
 * listed in the attempt's request and response.
 */

export interface GenerateStepInput {
  env: Env;
  orgId: string;
  settings: StepModelSettings & { max_total_tokens?: number; output_schema?: Record<string, unknown> };
  system: string | undefined;
  prompt: string;
  idempotencyKey: string;
}

export interface CallRecord {
  idempotency_key: string;
  usage: TokenUsage;
  finish_reason: string;
  /** Why the answer was sent back (repairs only). */
  errors?: string[];
}

export interface GenerateStepResult {
  ok: boolean;
  outputs?: Record<string, unknown>;
  failure?: StepModelFailure | { code: "INVALID_OUTPUT"; reason: string; retry: "never"; info?: Record<string, unknown> };
  request: Record<string, unknown>;
  response: Record<string, unknown>;
}

export async function generateStep(input: GenerateStepInput): Promise<GenerateStepResult> {
  const { settings } = input;
  const resolved = await stepModel(input.env, input.orgId, settings);
  const request: Record<string, unknown> = { kind: "model_call", connection_id: settings.connection_id ?? null };
  if (!resolved.ok) return { ok: false, failure: resolved.failure, request, response: {} };
  const target = resolved.model;
  Object.assign(request, { provider: target.provider.provider, model: target.name });
  const schema = settings.output_schema;
  const instructions = [input.system, schema ? schemaInstruction(schema) : undefined].filter(Boolean).join("\n\n");
  const messages: ModelMessage[] = [{ role: "user", content: input.prompt }];
  const calls: CallRecord[] = [];
  let usage: TokenUsage = NO_USAGE;
  const response = () => ({ calls, usage });
  for (let n = 0; ; n++) {
    const key = n === 0 ? input.idempotencyKey : `${input.idempotencyKey}:repair-${n}`;
    const remaining = settings.max_total_tokens === undefined ? null : settings.max_total_tokens - usage.total_tokens;
    const res = await callStepModel({
      env: input.env,
      orgId: input.orgId,
      target,
      instructions,
      messages,
      settings,
      remainingTokens: remaining,
      idempotencyKey: key,
    });
    if (!res.ok) return { ok: false, failure: res.failure, request, response: response() };
    const out = res.out;
    usage = addUsage(usage, out.usage);
    const call: CallRecord = { idempotency_key: key, usage: out.usage, finish_reason: out.finishReason };
    calls.push(call);
    const base = { usage, model: target.name, provider: target.provider.provider, finish_reason: out.finishReason };
    if (!schema) return { ok: true, outputs: { text: out.text, ...base }, request, response: response() };
    const check = checkStructured(out.text, schema);
    if (check.ok) return { ok: true, outputs: { object: check.value, ...base, repairs: n }, request, response: response() };
    call.errors = check.errors;
    if (n >= LIMITS.LLM_MAX_REPAIR_ATTEMPTS)
      return {
        ok: false,
        failure: {
          code: "INVALID_OUTPUT",
          reason: `The answer did not match the output_schema after ${LIMITS.LLM_MAX_REPAIR_ATTEMPTS} repairs (LLM_MAX_REPAIR_ATTEMPTS)`,
          retry: "never",
          info: { errors: check.errors, text: out.text.slice(0, LIMITS.AI_AGENT_STEP_TEXT_CHARS), usage },
        },
        request,
        response: response(),
      };
    messages.push(
      { role: "assistant", content: out.text || "(empty answer)" },
      { role: "user", content: repairPrompt(check.errors) },
    );
  }
}
