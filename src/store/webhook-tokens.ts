import { sha256Hex } from "../lib/crypto";
import { legacyTokenPath } from "../lib/webhook-tokens";
import { invalidateFlow } from "./flow-invalidation";

/**
 * `webhook_tokens` (migration 0021): the SHA-256 of each webhook trigger's URL token, written with its flow by
 * store/flows.ts. A flow stored by the earlier layout (the token inside the trigger's `path`) is upgraded the first
 * time it is read: the path loses the token, the token's hash is stored here, and the URL keeps working.
 */

/** A trigger's URL token, hashed. `owner` is the trigger id. */
export interface WebhookTokenRow {
  owner: string;
  token_hash: string;
  created_at: string;
}

export async function listWebhookTokens(db: D1Database, orgId: string, flowId: string): Promise<WebhookTokenRow[]> {
  const { results } = await db
    .prepare(`SELECT trigger_id AS owner, token_hash, created_at FROM webhook_tokens WHERE org_id = ? AND flow_id = ?`)
    .bind(orgId, flowId)
    .all<WebhookTokenRow>();
  return results;
}

/** Statements that replace a flow's token rows, run only while `guard` (SQL + binds) holds. */
export function tokenStatements(
  db: D1Database,
  w: { org_id: string; id: string; tokens: WebhookTokenRow[] },
  guard: { sql: string; binds: unknown[] },
): D1PreparedStatement[] {
  return [
    db
      .prepare(`DELETE FROM webhook_tokens WHERE org_id = ? AND flow_id = ? AND ${guard.sql}`)
      .bind(w.org_id, w.id, ...guard.binds),
    ...w.tokens.map((t) =>
      db
        .prepare(
          `INSERT INTO webhook_tokens (org_id, flow_id, trigger_id, token_hash, created_at) SELECT ?, ?, ?, ?, ? WHERE ${guard.sql}`,
        )
        .bind(w.org_id, w.id, t.owner, t.token_hash, t.created_at, ...guard.binds),
    ),
  ];
}

interface DocTrigger {
  id: string;
  type: string;
  configuration?: Record<string, unknown>;
}

/**
 * A flow row as stored by the earlier layout comes back upgraded: the webhook trigger's path without its token and
 * `token_configured: true` in the document, the token's hash in webhook_tokens, the trigger index on the new path,
 * all in one batch that applies only while the document is still the one read. Rows without such a trigger are
 * returned as they are (one JSON parse). `tokens` are the hashes this upgrade stored.
 */
export async function upgradeLegacyTokens<R extends { id: string; org_id: string; doc: string }>(
  db: D1Database,
  row: R,
  now: string,
): Promise<{ row: R; tokens: WebhookTokenRow[] }> {
  if (!row.doc.includes('"webhook"')) return { row, tokens: [] };
  const doc = JSON.parse(row.doc) as { triggers?: DocTrigger[] };
  const moved: { trigger: DocTrigger; path: string; token: string }[] = [];
  for (const t of doc.triggers ?? []) {
    const legacy = t.type === "webhook" && t.configuration ? legacyTokenPath(t.configuration) : null;
    if (legacy) moved.push({ trigger: t, ...legacy });
  }
  if (moved.length === 0) return { row, tokens: [] };
  const tokens: WebhookTokenRow[] = [];
  for (const m of moved) {
    m.trigger.configuration = { ...m.trigger.configuration, path: m.path, token_configured: true };
    tokens.push({ owner: m.trigger.id, token_hash: await sha256Hex(m.token), created_at: now });
  }
  const upgraded = JSON.stringify(doc);
  const still = {
    sql: "EXISTS (SELECT 1 FROM flows WHERE org_id = ? AND id = ? AND doc = ?)",
    binds: [row.org_id, row.id, upgraded],
  };
  await db.batch([
    db.prepare(`UPDATE flows SET doc = ? WHERE org_id = ? AND id = ? AND doc = ?`).bind(upgraded, row.org_id, row.id, row.doc),
    ...moved.map((m) =>
      db
        .prepare(`UPDATE flow_triggers SET source_key = ? WHERE org_id = ? AND flow_id = ? AND trigger_id = ? AND ${still.sql}`)
        .bind(m.path, row.org_id, row.id, m.trigger.id, ...still.binds),
    ),
    ...tokens.map((t) =>
      db
        .prepare(
          `INSERT OR IGNORE INTO webhook_tokens (org_id, flow_id, trigger_id, token_hash, created_at)
           SELECT ?, ?, ?, ?, ? WHERE ${still.sql}`,
        )
        .bind(row.org_id, row.id, t.owner, t.token_hash, t.created_at, ...still.binds),
    ),
  ]);
  invalidateFlow(row.id);
  return { row: { ...row, doc: upgraded }, tokens };
}
