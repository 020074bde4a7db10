/** D1 access of `tool_audit_log`: who called which tool when, the outcome and duration. Never arguments or secrets. */

export interface ToolAuditRow {
  id: string;
  org_id: string;
  actor: string;
  user_id: string;
  via: "tools.call" | "tools.stream" | "automation.execute" | "mcp.call" | "conversations.chat" | "ai_agent";
  tool: string;
  connection_id: string | null;
  request_id: string | null;
  started_at: string;
  duration_ms: number;
  outcome: "success" | "error";
  http_status: number | null;
  error_message: string | null;
}

const COLUMNS =
  "id, org_id, actor, user_id, via, tool, connection_id, request_id, started_at, duration_ms, outcome, http_status, error_message";

export async function insertToolAudit(db: D1Database, row: ToolAuditRow): Promise<void> {
  await db
    .prepare(`INSERT INTO tool_audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(
      row.id,
      row.org_id,
      row.actor,
      row.user_id,
      row.via,
      row.tool,
      row.connection_id,
      row.request_id,
      row.started_at,
      row.duration_ms,
      row.outcome,
      row.http_status,
      row.error_message,
    )
    .run();
}

export async function listToolAudit(
  db: D1Database,
  orgId: string,
  opts: { tool?: string; limit: number; offset: number },
): Promise<{ total: number; results: ToolAuditRow[] }> {
  const where = opts.tool ? "org_id = ? AND tool = ?" : "org_id = ?";
  const binds = opts.tool ? [orgId, opts.tool] : [orgId];
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM tool_audit_log WHERE ${where}`).bind(...binds),
    db
      .prepare(`SELECT ${COLUMNS} FROM tool_audit_log WHERE ${where} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`)
      .bind(...binds, opts.limit, opts.offset),
  ]);
  return {
    total: (count.results[0] as { n: number } | undefined)?.n ?? 0,
    results: rows.results as ToolAuditRow[],
  };
}
