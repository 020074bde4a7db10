/**
 * The Arrotech dialect's workflow list (src/dialects/arrotech): ids of the org's flows filtered by the workflow's
 * status (`draft` is a disabled flow whose first manual trigger carries `configuration.arrotech.status = "draft"`),
 * trigger type and words of the name or description. The flows themselves are loaded with getFlowsByIds.
 */

export interface WorkflowSearch {
  status?: "active" | "paused" | "draft";
  trigger_type?: string;
  search?: string;
}

/** Whether the flow's first manual trigger marks it a draft (the key the dialect writes). */
const IS_DRAFT = `EXISTS (
  SELECT 1 FROM json_each(f.doc, '$.triggers') t
  WHERE t.key = (SELECT MIN(m.key) FROM json_each(f.doc, '$.triggers') m WHERE json_extract(m.value, '$.type') = 'manual')
    AND json_extract(t.value, '$.configuration.arrotech.status') = 'draft')`;

const hasTrigger = (condition: string) =>
  `EXISTS (SELECT 1 FROM flow_triggers t WHERE t.org_id = f.org_id AND t.flow_id = f.id AND ${condition})`;

/** `%`, `_` and the escape character itself taken literally in a LIKE pattern. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function searchWorkflowIds(
  db: D1Database,
  orgId: string,
  q: WorkflowSearch,
  limit: number,
  offset: number,
): Promise<{ total: number; ids: string[] }> {
  const where = ["f.org_id = ?"];
  const binds: unknown[] = [orgId];
  if (q.status === "active") where.push("f.enabled = 1");
  if (q.status === "paused") where.push(`f.enabled = 0 AND NOT ${IS_DRAFT}`);
  if (q.status === "draft") where.push(`f.enabled = 0 AND ${IS_DRAFT}`);
  if (q.trigger_type === "manual") {
    // A manual workflow has no trigger but manual ones.
    where.push(`NOT ${hasTrigger("t.trigger_type != 'manual'")}`);
  } else if (q.trigger_type !== undefined) {
    where.push(hasTrigger("t.trigger_type = ?"));
    binds.push(q.trigger_type);
  }
  for (const word of (q.search ?? "").split(/\s+/).filter(Boolean).slice(0, 10)) {
    where.push(`(f.flow_name LIKE ? ESCAPE '\\' OR json_extract(f.doc, '$.description') LIKE ? ESCAPE '\\')`);
    const pattern = `%${likeLiteral(word)}%`;
    binds.push(pattern, pattern);
  }
  const clause = where.join(" AND ");
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM flows f WHERE ${clause}`).bind(...binds),
    db
      .prepare(`SELECT f.id FROM flows f WHERE ${clause} ORDER BY f.created_at DESC, f.id LIMIT ? OFFSET ?`)
      .bind(...binds, limit, offset),
  ]);
  return {
    total: (count.results[0] as { n: number } | undefined)?.n ?? 0,
    ids: (rows.results as { id: string }[]).map((r) => r.id),
  };
}
