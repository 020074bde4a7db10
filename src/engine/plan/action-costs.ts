import { LIMITS } from "../../lib/limits";
import { DelayRunConfig } from "../delay";

/**
 * What one run of an action costs, for the limits planner (plan.ts): asked of each action type, from its
 * definition alone. The AI steps have their own (model calls, tool calls, prompt and output tokens); a type without
 * an entry gets the default, which reads the fields a model-calling step carries (`max_total_tokens`, `max_steps`).
 */
export interface ActionCost {
  /** Outbound requests (fetch subrequests) one run makes (all its steps'). */
  outbound_requests: number;
  /**
   * Runs the action takes, each its own run of the object with its own attempts (an ai_agent: one per model call
   * and per tool call); its outbound requests are spread over them. 1 for every other type.
   */
  steps: number;
  /** Model tokens one run may spend at most. */
  model_tokens: number;
  /** Largest outputs one run may produce, in bytes, before the stored-output caps cut them. */
  max_output_bytes: number;
  /** Estimated CPU time of one run, in ms (the engine's step included). */
  cpu_ms: number;
  /** Seconds one run waits (a delay); null when a template decides. */
  delay_seconds: number | null;
  /** Why a run can never succeed within the limits, with the config field it comes from. */
  error?: { message: string; path?: string };
  /** What may go wrong. */
  warning?: { message: string; path?: string };
}

export interface PlannedAction {
  id?: string;
  type: string;
  config?: Record<string, unknown>;
}

type CostOf = (config: Record<string, unknown>) => Partial<ActionCost>;

const bytes = (v: unknown): number => new TextEncoder().encode(JSON.stringify(v ?? null)).length;
const hasTemplate = (v: unknown): boolean => JSON.stringify(v ?? null).match(/\{\{|\{%/) !== null;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Answers of an HTTP target: the captured body and its headers. */
const HTTP_OUTPUT = LIMITS.MAX_CAPTURED_BODY_BYTES + 4096;
const http: CostOf = (c) => ({ outbound_requests: c.url === undefined ? 0 : 1, max_output_bytes: HTTP_OUTPUT });
const provider: CostOf = () => ({ outbound_requests: 1, max_output_bytes: LIMITS.MAX_PROVIDER_RESULT_BYTES + 1024 });

/** A record written from the config's `field`: a literal over MAX_RECORD_BYTES is refused every time. */
const recordWrite =
  (field: string): CostOf =>
  (c) => {
    const size = bytes(c[field]);
    return {
      // Its outputs are the record written.
      max_output_bytes: LIMITS.MAX_RECORD_BYTES,
      ...(size > LIMITS.MAX_RECORD_BYTES && !hasTemplate(c[field])
        ? {
            error: {
              message: `writes ${size} bytes; a record holds at most ${LIMITS.MAX_RECORD_BYTES}`,
              path: `config.${field}`,
            },
          }
        : {}),
    };
  };

const small: CostOf = () => ({ max_output_bytes: 1024 });

/** About four characters a token: the planner's estimate of a prompt as written (a template counts as written). */
const CHARS_PER_TOKEN = 4;
const tokensOf = (...texts: unknown[]): number =>
  texts.reduce<number>(
    (n, t) => n + (t === undefined ? 0 : Math.ceil((typeof t === "string" ? t : JSON.stringify(t)).length / CHARS_PER_TOKEN)),
    0,
  );
const outTokens = (c: Record<string, unknown>): number => num(c.max_output_tokens) ?? LIMITS.AI_MAX_OUTPUT_TOKENS;
const cap = (estimate: number, budget: number | undefined) => (budget === undefined ? estimate : Math.min(estimate, budget));

/**
 * ai_generate: one model call, and with an `output_schema` up to LLM_MAX_REPAIR_ATTEMPTS repairs, each carrying
 * the answers before it; every call up to `max_output_tokens` out and its prompt in. `max_total_tokens` caps it.
 */
const aiGenerate: CostOf = (c) => {
  const calls = 1 + (c.output_schema === undefined ? 0 : LIMITS.LLM_MAX_REPAIR_ATTEMPTS);
  const prompt = tokensOf(c.system, c.prompt, c.output_schema);
  const out = outTokens(c);
  const estimate = calls * (prompt + out) + (out * calls * (calls - 1)) / 2;
  return { outbound_requests: calls, model_tokens: cap(estimate, num(c.max_total_tokens)), max_output_bytes: 1024 + out * 4 };
};

/**
 * ai_agent: `max_steps` model calls (AI_AGENT_DEFAULT_STEPS unset, repairs among them), each turn asking for up to
 * LLM_MAX_TOOL_CALLS_PER_STEP tool calls (none with `tools: []`), every call its own step with one request.
 * Tokens: `max_total_tokens`; without it, each model call's prompt and `max_output_tokens`, and a warning, since
 * the transcript every turn carries is not counted.
 */
const aiAgent: CostOf = (c) => {
  const modelCalls = num(c.max_steps) ?? LIMITS.AI_AGENT_DEFAULT_STEPS;
  const noTools = Array.isArray(c.tools) && c.tools.length === 0;
  const toolCalls = noTools ? 0 : modelCalls * LIMITS.LLM_MAX_TOOL_CALLS_PER_STEP;
  const budget = num(c.max_total_tokens);
  return {
    outbound_requests: modelCalls + toolCalls,
    steps: modelCalls + toolCalls,
    model_tokens: budget ?? modelCalls * (tokensOf(c.instructions, c.input, c.output_schema) + outTokens(c)),
    max_output_bytes: LIMITS.MAX_ACTION_OUTPUT_BYTES,
    ...(budget === undefined
      ? {
          warning: {
            message: `no max_total_tokens: its tokens are counted as ${modelCalls} model calls of its prompt and max_output_tokens, without the transcript each turn carries; set max_total_tokens to bound them`,
            path: "config.max_total_tokens",
          },
        }
      : {}),
  };
};

/** Each action type's contribution; absent types get `defaultCost`. */
export const ACTION_COSTS: Record<string, CostOf> = {
  ai_generate: aiGenerate,
  ai_agent: aiAgent,
  "trigger-webhook": http,
  call_webhook: http,
  "custom-action": http,
  integration: provider,
  send_email: provider,
  "send-email": provider,
  create_record: recordWrite("data"),
  update_record: recordWrite("updates"),
  "map-entity": () => ({ max_output_bytes: LIMITS.MAX_RECORD_BYTES }),
  "trigger-workflow": small,
  "trigger-event": small,
  send_notification: small,
  "cancel-flow-execution": small,
  // The platform's actions (docs/platform.md): a webhook target, e-mails, threads, documents, shares, orders.
  "inform-erp": () => ({ outbound_requests: 1, max_output_bytes: HTTP_OUTPUT }),
  "reply-email": provider,
  "forward-email": provider,
  "move-thread": small,
  "assign-thread": small,
  "trigger-share-entity": small,
  // Rendering a PDF is the costliest step of any action here.
  "create-document": () => ({ max_output_bytes: 1024, cpu_ms: 50 }),
  "cart-checkout": () => ({ max_output_bytes: LIMITS.MAX_RECORD_BYTES }),
  delay: (c) => {
    const parsed = DelayRunConfig.safeParse(c);
    if (!parsed.success) return { delay_seconds: null, max_output_bytes: 256 };
    const unit = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 }[parsed.data.unit];
    return { delay_seconds: parsed.data.duration * unit, max_output_bytes: 256 };
  },
};

/** An action type without an entry: a model-calling step by its `max_total_tokens` / `max_steps`, anything else by its config. */
export function defaultCost(c: Record<string, unknown>): Partial<ActionCost> {
  const tokens = num(c.max_total_tokens);
  const steps = num(c.max_steps);
  return {
    outbound_requests: steps ?? (tokens !== undefined ? 1 : 0),
    model_tokens: tokens ?? 0,
    max_output_bytes: Math.max(1024, bytes(c)),
  };
}

/** The cost of one run of `action` (the table's entry, or the default, completed). */
export function actionCost(action: PlannedAction): ActionCost {
  const config = action.config ?? {};
  const partial = (ACTION_COSTS[action.type] ?? defaultCost)(config);
  const tokens = partial.model_tokens ?? num(config.max_total_tokens) ?? 0;
  return {
    outbound_requests: partial.outbound_requests ?? 0,
    steps: Math.max(1, partial.steps ?? 1),
    model_tokens: tokens,
    max_output_bytes: partial.max_output_bytes ?? 1024,
    // The engine's step (state, templates, one commit) and the handler: about a millisecond, more for large configs.
    cpu_ms: partial.cpu_ms ?? 1 + Math.ceil(bytes(config) / 16_384),
    delay_seconds: partial.delay_seconds === undefined ? 0 : partial.delay_seconds,
    ...(partial.error ? { error: partial.error } : {}),
    ...(partial.warning ? { warning: partial.warning } : {}),
  };
}
