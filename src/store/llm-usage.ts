/**
 * Model tokens spent by AI steps (migration 0030, `llm_usage`): one row per organization, UTC day, provider and
 * model, bumped once per model call.
 */

export interface LlmUsageRow {
  day: string;
  provider: string;
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface LlmCallUsage {
  org_id: string;
  day: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** Adds one call's tokens to its day and model. */
export async function addLlmUsage(db: D1Database, u: LlmCallUsage): Promise<void> {
  await db
    .prepare(
      `INSERT INTO llm_usage (org_id, day, provider, model, calls, input_tokens, output_tokens, total_tokens)
       VALUES (?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (org_id, day, provider, model) DO UPDATE SET calls = calls + 1,
         input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
         total_tokens = total_tokens + excluded.total_tokens`,
    )
    .bind(u.org_id, u.day, u.provider, u.model.slice(0, 200), u.input_tokens, u.output_tokens, u.total_tokens)
    .run();
}

/** The organization's tokens of one day, every model together. */
export async function llmTokensOn(db: D1Database, orgId: string, day: string): Promise<number> {
  const row = await db
    .prepare(`SELECT COALESCE(SUM(total_tokens), 0) AS total FROM llm_usage WHERE org_id = ? AND day = ?`)
    .bind(orgId, day)
    .first<{ total: number }>();
  return row?.total ?? 0;
}

/** The organization's rows from `fromDay` on (inclusive), newest day first, then by model. */
export async function llmUsageSince(db: D1Database, orgId: string, fromDay: string): Promise<LlmUsageRow[]> {
  const { results } = await db
    .prepare(
      `SELECT day, provider, model, calls, input_tokens, output_tokens, total_tokens FROM llm_usage
        WHERE org_id = ? AND day >= ? ORDER BY day DESC, provider, model`,
    )
    .bind(orgId, fromDay)
    .all<LlmUsageRow>();
  return results;
}
