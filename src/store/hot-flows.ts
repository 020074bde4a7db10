/**
 * The D1 count behind the hot-flow limit (engine/hot-flow.ts): executions of a flow created since a time,
 * `hot` ones excluded (they ran nothing), on the index executions_org_flow (org_id, flow_id, created_at).
 * The scan stops at `cap` rows, so a busy flow costs at most its limit in index steps.
 */
export function countRecentExecutionsStatement(
  db: D1Database,
  orgId: string,
  flowId: string,
  sinceIso: string,
  cap: number,
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM executions WHERE org_id = ? AND flow_id = ? AND created_at >= ? AND status != 'hot' LIMIT ?)`,
    )
    .bind(orgId, flowId, sinceIso, cap);
}

export const countFromResult = (res: D1Result): number => (res.results[0] as { n: number } | undefined)?.n ?? 0;
