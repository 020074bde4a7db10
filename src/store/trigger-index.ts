/** The trigger matcher's lookup: enabled flows of an org with a trigger of one of `types` for one of `sourceKeys`. */
export async function candidateFlowIds(db: D1Database, orgId: string, types: string[], sourceKeys: string[]): Promise<string[]> {
  if (types.length === 0) return [];
  const rows = await db
    .prepare(
      `SELECT DISTINCT flow_id FROM flow_triggers
       WHERE org_id = ? AND enabled = 1
         AND trigger_type IN (SELECT value FROM json_each(?))
         AND source_key IN (SELECT value FROM json_each(?))`,
    )
    .bind(orgId, JSON.stringify(types), JSON.stringify([...sourceKeys, "*"]))
    .all<{ flow_id: string }>();
  return rows.results.map((r) => r.flow_id);
}
