import { APICallError, type LanguageModel, type ModelMessage, type ToolSet } from "ai";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { dailyTokenBudget, recordLlmUsage } from "../services/llm-usage";
import { llmFailure } from "./errors";
import { languageModel } from "./model";
import { resolveProvider, type ResolvedProvider } from "./providers";
import { modelStep, type StepOutcome } from "./step";

/**
 * One model call of an AI step (ai_generate, ai_agent): which provider and model answer (the step's setting, else
 * its agent's, else the organization's default), the budgets checked before anything is sent (the action's
 * `max_total_tokens`, the organization's daily budget), the call itself with the step's idempotency key as a
 * header, and its tokens recorded per day and model. Failures come back classified, never thrown.
 */

export interface StepModelSettings {
  /** A connection id (openai, anthropic, ollama) or `workers-ai`. */
  connection_id?: string;
  model?: string;
  max_output_tokens?: number;
  temperature?: number;
  stream?: boolean;
}

export interface StepModel {
  provider: ResolvedProvider;
  model: LanguageModel;
  /** The model's name as called. */
  name: string;
}

export type LlmFailureCode = "BAD_CONFIG" | "BUDGET_EXCEEDED" | "LLM_ERROR";

export interface StepModelFailure {
  code: LlmFailureCode;
  reason: string;
  /** never: retrying cannot help (refused config, auth, budget); policy: the flow's retry policy applies. */
  retry: "never" | "policy";
  info?: Record<string, unknown>;
}

export type StepModelResult = { ok: true; model: StepModel } | { ok: false; failure: StepModelFailure };

/** The provider and model a step runs on; an unknown connection or an org without any provider is a bad config. */
export async function stepModel(
  env: Env,
  orgId: string,
  settings: Pick<StepModelSettings, "connection_id" | "model">,
): Promise<StepModelResult> {
  try {
    const provider = await resolveProvider(env, orgId, settings.connection_id ?? null);
    const name = settings.model || provider.model;
    if (!name) return { ok: false, failure: badConfig(`The ${provider.provider} connection has no model: set the step's model`) };
    const resolved = { ...provider, model: name };
    return { ok: true, model: { provider: resolved, model: languageModel(env, resolved), name } };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { ok: false, failure: badConfig(err.message, err) };
    throw err;
  }
}

const badConfig = (reason: string, err?: AppError): StepModelFailure => ({
  code: "BAD_CONFIG",
  reason,
  retry: "never",
  ...(err ? { info: { code: err.code, details: err.details } } : {}),
});

export interface CallInput {
  env: Env;
  orgId: string;
  target: StepModel;
  instructions: string;
  messages: ModelMessage[];
  tools?: ToolSet;
  settings: StepModelSettings;
  /** Tokens the action may still spend (its max_total_tokens less what it spent), or null for no action budget. */
  remainingTokens: number | null;
  idempotencyKey: string;
}

export type CallResult = { ok: true; out: StepOutcome } | { ok: false; failure: StepModelFailure };

/**
 * Whether a budget forbids sending anything more: the action's (`remaining` tokens of its max_total_tokens; null:
 * none) or the organization's daily one. Null when the step may go on.
 */
export async function budgetRefusal(env: Env, orgId: string, remaining: number | null): Promise<StepModelFailure | null> {
  if (remaining !== null && remaining <= 0) return budget(`The step's max_total_tokens is spent; nothing more is sent`);
  const daily = await dailyTokenBudget(env, orgId);
  if (daily.budget !== null && daily.spent >= daily.budget)
    return budget(
      `The organization's daily token budget (${daily.budget} on ${daily.day}, its plan's) is spent (${daily.spent}); nothing more is sent`,
    );
  return null;
}

/** Checks the budgets (unless the caller just did), calls the model once and records its tokens. */
export async function callStepModel(input: CallInput & { budgetChecked?: boolean }): Promise<CallResult> {
  if (!input.budgetChecked) {
    const refused = await budgetRefusal(input.env, input.orgId, input.remainingTokens);
    if (refused) return { ok: false, failure: refused };
  }
  const limit = input.settings.max_output_tokens ?? LIMITS.AI_MAX_OUTPUT_TOKENS;
  const maxOutputTokens = input.remainingTokens === null ? limit : Math.max(1, Math.min(limit, input.remainingTokens));
  let out: StepOutcome;
  try {
    out = await modelStep({
      model: input.target.model,
      instructions: input.instructions,
      messages: input.messages,
      tools: input.tools,
      // A streamed answer is read whole: the step records the result, not the deltas.
      onText: input.settings.stream ? async () => {} : undefined,
      settings: {
        maxOutputTokens,
        ...(input.settings.temperature !== undefined ? { temperature: input.settings.temperature } : {}),
        headers: { "idempotency-key": input.idempotencyKey },
      },
    });
  } catch (err) {
    return { ok: false, failure: classify(err, input.target.provider.provider) };
  }
  await recordLlmUsage(input.env, input.orgId, input.target.provider.provider, input.target.name, out.usage);
  return { ok: true, out };
}

const budget = (reason: string): StepModelFailure => ({ code: "BUDGET_EXCEEDED", reason, retry: "never" });

/** A failed call: a timeout, a rate limit or a server error may pass on retry; a refusal (auth, 4xx, policy) will not. */
function classify(err: unknown, provider: string): StepModelFailure {
  const e = llmFailure(err, provider);
  let status: number | undefined;
  for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) {
    if (APICallError.isInstance(c)) {
      status = c.statusCode;
      break;
    }
  }
  const transient =
    e.code === "LLM_TIMEOUT" || e.code === "LLM_RATE_LIMITED" || (e.code === "LLM_PROVIDER_ERROR" && (status ?? 500) >= 500);
  return {
    code: "LLM_ERROR",
    reason: e.message,
    retry: transient ? "policy" : "never",
    info: { code: e.code, ...(status ? { status } : {}) },
  };
}
