/**
 * D1 access of the cron scheduler's reconciliation. It is a system task over all organizations, so this
 * query (unlike every API query) is not scoped to one org; each row carries its org_id.
 */

export interface ScheduledFlowRow {
  org_id: string;
  flow_id: string;
  /** The flow document's `triggers` array (JSON text). */
  triggers: string;
}

/**
 * Enabled flows with at least one schedule trigger, in flow_id order, within `[gte, lt)` (either bound
 * optional), at most `limit` (index flow_triggers_schedule).
 */
export async function listScheduledFlows(
  db: D1Database,
  range: { gte?: string; lt?: string },
  limit: number,
): Promise<ScheduledFlowRow[]> {
  const rows = await db
    .prepare(
      `SELECT t.org_id, t.flow_id, json_extract(f.doc, '$.triggers') AS triggers
       FROM (SELECT org_id, flow_id FROM flow_triggers
             WHERE trigger_type = 'schedule' AND enabled = 1 AND flow_id >= ? AND (? IS NULL OR flow_id < ?)
             GROUP BY flow_id ORDER BY flow_id LIMIT ?) t
       JOIN flows f ON f.org_id = t.org_id AND f.id = t.flow_id AND f.enabled = 1
       ORDER BY t.flow_id`,
    )
    .bind(range.gte ?? "", range.lt ?? null, range.lt ?? null, limit)
    .all<ScheduledFlowRow>();
  return rows.results;
}

/** What a schedule object checks before it fires: is the flow there, enabled, and which are its triggers. */
export async function getFlowScheduleState(
  db: D1Database,
  orgId: string,
  flowId: string,
): Promise<{ enabled: boolean; triggers: { id: string; type: string; configuration?: unknown }[] } | null> {
  const row = await db
    .prepare(`SELECT enabled, json_extract(doc, '$.triggers') AS triggers FROM flows WHERE org_id = ? AND id = ?`)
    .bind(orgId, flowId)
    .first<{ enabled: number; triggers: string | null }>();
  if (!row) return null;
  return { enabled: row.enabled === 1, triggers: row.triggers ? JSON.parse(row.triggers) : [] };
}
