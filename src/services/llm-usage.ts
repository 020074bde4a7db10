import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { addLlmUsage, llmTokensOn, llmUsageSince, type LlmUsageRow } from "../store/llm-usage";
import { PLAN_LLM_TOKEN_BUDGETS, orgPlan, planClock, utcDay } from "./plans";

/**
 * Model tokens of AI steps: recorded per organization, day and model after every call, and checked against the
 * organization's daily budget (its plan's; an organization without a plan has none) before every call. The check
 * reads the day's sum, so calls racing each other may overshoot the budget by what they spend; nothing is sent
 * once it is spent. Days are UTC, on the plans' clock (tests move it).
 */

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export const NO_USAGE: TokenUsage = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  total_tokens: a.total_tokens + b.total_tokens,
});

export interface DailyBudget {
  day: string;
  /** Tokens the organization may spend today; null: no budget. */
  budget: number | null;
  spent: number;
}

/** Today's budget of the organization and what it spent so far (no D1 read of usage without a budget). */
export async function dailyTokenBudget(env: Env, orgId: string): Promise<DailyBudget> {
  const day = utcDay(planClock.now());
  const plan = await orgPlan(env.DB, orgId);
  if (!plan) return { day, budget: null, spent: 0 };
  return { day, budget: PLAN_LLM_TOKEN_BUDGETS[plan], spent: await llmTokensOn(env.DB, orgId, day) };
}

/** Adds one model call's tokens to today's row of its model. */
export async function recordLlmUsage(env: Env, orgId: string, provider: string, model: string, usage: TokenUsage) {
  await addLlmUsage(env.DB, { org_id: orgId, day: utcDay(planClock.now()), provider, model, ...usage });
}

export interface LlmUsageReport {
  org_id: string;
  days: number;
  from: string;
  to: string;
  daily_budget: number | null;
  totals: TokenUsage & { calls: number };
  by_day: { day: string; totals: TokenUsage & { calls: number }; models: LlmUsageRow[] }[];
}

/** The organization's usage of the last `days` UTC days (today included), per day and model, newest first. */
export async function llmUsageReport(env: Env, orgId: string, days: number): Promise<LlmUsageReport> {
  const n = Math.min(Math.max(1, days), LIMITS.LLM_USAGE_MAX_DAYS);
  const now = planClock.now();
  const from = utcDay(now - (n - 1) * 86_400_000);
  const rows = await llmUsageSince(env.DB, orgId, from);
  const plan = await orgPlan(env.DB, orgId);
  const byDay = new Map<string, LlmUsageRow[]>();
  for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  const sum = (list: LlmUsageRow[]) =>
    list.reduce((t, r) => ({ calls: t.calls + r.calls, ...addUsage(t, r) }), { calls: 0, ...NO_USAGE } as TokenUsage & {
      calls: number;
    });
  return {
    org_id: orgId,
    days: n,
    from,
    to: utcDay(now),
    daily_budget: plan ? PLAN_LLM_TOKEN_BUDGETS[plan] : null,
    totals: sum(rows),
    by_day: [...byDay].map(([day, models]) => ({ day, totals: sum(models), models })),
  };
}
