import { LIMITS } from "../../lib/limits";
import { DEFAULT_RETRY_POLICY } from "../execution/retry";
import { actionCost, type ActionCost, type PlannedAction } from "./action-costs";

/**
 * The limits planner: what a flow can cost in the worst case, from its definition alone (no run, no data),
 * against the engine's and the platform's limits. An error means no run can stay within them (the flow is
 * refused on save); a warning that some runs may not. Pure.
 */

export interface PlanIssue {
  code: string;
  message: string;
  /** The flow field it comes from (`actions.2.config.data`, `loops.0.length`). */
  path?: string;
}

export interface FlowPlan {
  /** Action runs in the worst case: every loop at its largest (`length`, else MAX_LOOP_ITEMS items), retries excluded. */
  max_actions: number;
  /** With every attempt of every retry policy. */
  max_attempts: number;
  /** Outbound requests (Workers subrequests) of one execution in the worst case, retries excluded. */
  max_outbound_requests: number;
  /** The most one invocation of the execution's object may send: it runs at most MAX_RUNS_PER_INVOCATION actions. */
  max_outbound_requests_per_invocation: number;
  /** The subrequest limits of one invocation that apply: the Free plan's and the Paid plan's. */
  subrequest_limits: { free: number; paid: number };
  /** The largest outputs one action may produce (a loop's: all its items), before the stored-output caps. */
  max_payload_bytes: number;
  /** Seconds of delays (each looped delay once per item) plus the longest schedule offset. */
  total_delay_seconds: number;
  /** Model tokens in the worst case (each action's `max_total_tokens`, once per item). */
  max_model_tokens: number;
  /** Estimated CPU time of one execution, in ms. */
  est_cpu_ms: number;
  warnings: PlanIssue[];
  errors: PlanIssue[];
}

export interface PlanInput {
  actions: (PlannedAction & { loop_id?: string; schedule_id?: string; retry_policy?: { max_attempts?: number } })[];
  loops?: { id: string; length?: number; source_path?: string }[];
  schedules?: { id: string; numberOfUnits?: number; timePeriod?: string; timeRelation?: string }[];
  retry_policy?: { max_attempts?: number };
}

/** An execution's fixed CPU cost: creation, the summary writes, the finish. */
const EXECUTION_CPU_MS = 2;
const PERIOD_SECONDS: Record<string, number> = { minutes: 60, hours: 3600, days: 86_400, weeks: 604_800, months: 2_678_400 };

const kb = (n: number) => `${Math.round(n / 1024)} KB`;

export function planFlow(flow: PlanInput, costOf: (a: PlannedAction) => ActionCost = actionCost): FlowPlan {
  const warnings: PlanIssue[] = [];
  const errors: PlanIssue[] = [];
  const loops = new Map((flow.loops ?? []).map((l, i) => [l.id, { loop: l, index: i }]));
  let maxActions = 0;
  let maxAttempts = 0;
  let outbound = 0;
  let tokens = 0;
  let cpu = EXECUTION_CPU_MS;
  let delay = 0;
  let payload = 0;
  /** Per-run outbound requests, each repeated at most MAX_RUNS_PER_INVOCATION times (the worst invocation takes the largest). */
  const perRun: number[] = [];

  for (const loop of flow.loops ?? []) {
    if (loop.length !== undefined && loop.length > LIMITS.MAX_LOOP_ITEMS) {
      errors.push({
        code: "LOOP_TOO_LONG",
        message: `Loop ${loop.id} declares ${loop.length} items; a loop runs at most ${LIMITS.MAX_LOOP_ITEMS} (more fails the action every time)`,
        path: `loops.${loops.get(loop.id)!.index}.length`,
      });
    }
  }

  flow.actions.forEach((action, i) => {
    const where = `actions.${i}`;
    const name = action.id ?? where;
    const cost = costOf(action);
    const loop = action.loop_id ? loops.get(action.loop_id)?.loop : undefined;
    const runs = loop ? Math.min(loop.length ?? LIMITS.MAX_LOOP_ITEMS, LIMITS.MAX_LOOP_ITEMS) : 1;
    const attempts = action.retry_policy?.max_attempts ?? flow.retry_policy?.max_attempts ?? DEFAULT_RETRY_POLICY.max_attempts;
    // A multi-step action (ai_agent) is `steps` runs of the object, each with its attempts and its share of requests.
    const perStep = Math.ceil(cost.outbound_requests / cost.steps);
    maxActions += runs;
    maxAttempts += runs * cost.steps * attempts;
    outbound += runs * cost.outbound_requests;
    tokens += runs * cost.model_tokens;
    cpu += runs * cost.steps * cost.cpu_ms;
    for (let k = 0; k < Math.min(runs * cost.steps, LIMITS.MAX_RUNS_PER_INVOCATION); k++) perRun.push(perStep);
    if (cost.delay_seconds === null) {
      warnings.push({
        code: "DELAY_UNKNOWN",
        message: `Action ${name}: its delay is a template, not counted in total_delay_seconds`,
        path: `${where}.config`,
      });
    } else delay += runs * cost.delay_seconds;
    if (cost.error)
      errors.push({
        code: "ACTION_OVER_LIMIT",
        message: `Action ${name} ${cost.error.message}`,
        path: cost.error.path ? `${where}.${cost.error.path}` : where,
      });
    if (cost.warning)
      warnings.push({
        code: "ACTION_WARNING",
        message: `Action ${name}: ${cost.warning.message}`,
        path: cost.warning.path ? `${where}.${cost.warning.path}` : where,
      });
    if (perStep > LIMITS.WORKERS_PAID_SUBREQUESTS) {
      errors.push({
        code: "SUBREQUESTS",
        message: `Action ${name} sends up to ${perStep} requests in one run; one invocation may send at most ${LIMITS.WORKERS_PAID_SUBREQUESTS} (Workers Paid)`,
        path: where,
      });
    }

    // Payloads against the stored-output caps: each item's outputs, then the loop's collected outputs.
    const out = cost.max_output_bytes;
    if (loop) {
      const perItem = Math.min(out, LIMITS.MAX_ITERATION_OUTPUT_BYTES);
      const collected = runs * perItem;
      payload = Math.max(payload, collected);
      if (out > LIMITS.MAX_ITERATION_OUTPUT_BYTES) {
        warnings.push({
          code: "OUTPUT_CAPPED",
          message: `Action ${name}: one item's outputs may reach ${kb(out)}; each item keeps at most ${kb(LIMITS.MAX_ITERATION_OUTPUT_BYTES)} (the rest is cut, marked truncated)`,
          path: where,
        });
      }
      if (collected > LIMITS.MAX_ACTION_OUTPUT_BYTES) {
        warnings.push({
          code: "OUTPUT_CAPPED",
          message: `Action ${name}: ${runs} items may collect ${kb(collected)} of outputs; an action keeps at most ${kb(LIMITS.MAX_ACTION_OUTPUT_BYTES)} (later items are cut from its outputs)`,
          path: where,
        });
      }
    } else {
      payload = Math.max(payload, out);
      if (out > LIMITS.MAX_ACTION_OUTPUT_BYTES) {
        warnings.push({
          code: "OUTPUT_CAPPED",
          message: `Action ${name}: its outputs may reach ${kb(out)}; an action keeps at most ${kb(LIMITS.MAX_ACTION_OUTPUT_BYTES)} (the rest is cut, marked truncated)`,
          path: where,
        });
      }
    }
  });

  // Schedules are offsets from a timestamp of the run: the longest one bounds how long they keep it waiting.
  const offsets = (flow.schedules ?? [])
    .filter((s) => s.timeRelation !== "before" && s.numberOfUnits !== undefined)
    .map((s) => (s.numberOfUnits ?? 0) * (PERIOD_SECONDS[s.timePeriod ?? "minutes"] ?? 60));
  delay += Math.max(0, ...offsets);

  const perInvocation = perRun
    .sort((a, b) => b - a)
    .slice(0, LIMITS.MAX_RUNS_PER_INVOCATION)
    .reduce((a, b) => a + b, 0);
  if (perInvocation > LIMITS.WORKERS_PAID_SUBREQUESTS) {
    warnings.push({
      code: "SUBREQUESTS",
      message: `One invocation may send ${perInvocation} requests (${LIMITS.MAX_RUNS_PER_INVOCATION} actions in a row); the Workers Paid plan allows ${LIMITS.WORKERS_PAID_SUBREQUESTS}`,
    });
  } else if (perInvocation > LIMITS.WORKERS_FREE_SUBREQUESTS) {
    warnings.push({
      code: "SUBREQUESTS",
      message: `One invocation may send ${perInvocation} requests (${LIMITS.MAX_RUNS_PER_INVOCATION} actions in a row): over the Workers Free plan's ${LIMITS.WORKERS_FREE_SUBREQUESTS}, within Paid's ${LIMITS.WORKERS_PAID_SUBREQUESTS}`,
    });
  }
  if (maxActions > LIMITS.PLAN_WARN_ACTION_RUNS) {
    warnings.push({
      code: "MANY_ACTIONS",
      message: `Up to ${maxActions} action runs in one execution (loops at their largest); set each loop's \`length\` if it is smaller`,
    });
  }
  if (tokens > LIMITS.PLAN_WARN_MODEL_TOKENS) {
    warnings.push({ code: "MODEL_TOKENS", message: `Up to ${tokens} model tokens in one execution (loops at their largest)` });
  }

  return {
    max_actions: maxActions,
    max_attempts: maxAttempts,
    max_outbound_requests: outbound,
    max_outbound_requests_per_invocation: perInvocation,
    subrequest_limits: { free: LIMITS.WORKERS_FREE_SUBREQUESTS, paid: LIMITS.WORKERS_PAID_SUBREQUESTS },
    max_payload_bytes: payload,
    total_delay_seconds: delay,
    max_model_tokens: tokens,
    est_cpu_ms: cpu,
    warnings,
    errors,
  };
}
