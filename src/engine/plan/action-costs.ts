import { LIMITS } from "../../lib/limits";
import { DelayRunConfig } from "../delay";

/**
 * What one run of an action costs, for the limits planner (plan.ts): asked of each action type, from its
 * definition alone. A type without an entry gets the default, which reads the fields every model-calling
 * step carries (`max_total_tokens`, `max_steps`), so a new AI step is planned without an entry of its own.
 */
export interface ActionCost {
  /** Outbound requests (fetch subrequests) one run makes. */
  outbound_requests: number;
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

/** Each action type's contribution; absent types get `defaultCost`. */
export const ACTION_COSTS: Record<string, CostOf> = {
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
    model_tokens: tokens,
    max_output_bytes: partial.max_output_bytes ?? 1024,
    // The engine's step (state, templates, one commit) and the handler: about a millisecond, more for large configs.
    cpu_ms: partial.cpu_ms ?? 1 + Math.ceil(bytes(config) / 16_384),
    delay_seconds: partial.delay_seconds === undefined ? 0 : partial.delay_seconds,
    ...(partial.error ? { error: partial.error } : {}),
    ...(partial.warning ? { warning: partial.warning } : {}),
  };
}
