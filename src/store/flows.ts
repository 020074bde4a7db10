import { LIMITS } from "../lib/limits";
import type { AutomationFlow, DisableDetails } from "../schemas/flow";
import { isoNow } from "../lib/time";
import { invalidateFlow } from "./flow-invalidation";
import { tokenStatements, upgradeLegacyTokens, type WebhookTokenRow } from "./webhook-tokens";

/**
 * D1 access for flows and the two tables kept in step with them: `flow_triggers` (the trigger
 * matcher's index) and `flow_secrets` (encrypted secrets). Every write of a flow rewrites its index
 * and secrets in the same batch, which D1 runs as one transaction.
 */

/** The stored document: the flow without server-set fields, statistics and `enabled` (columns hold those). */
export type FlowDoc = Omit<
  AutomationFlow,
  | "id"
  | "org_id"
  | "enabled"
  | "created_at"
  | "updated_at"
  | "created_by"
  | "last_updated_by"
  | "version"
  | "runs"
  | "last_run_at"
  | "success_rate"
  | "consecutive_failures"
  | "disable_details"
>;

export interface FlowTriggerIndexRow {
  trigger_id: string;
  trigger_type: string;
  source_key: string;
}

/** An encrypted secret of a flow. `owner` is a trigger id, or `action:<action id>` for an action's secret. */
export interface FlowSecretRow {
  owner: string;
  key_id: string;
  ciphertext: string;
  created_at: string;
}

/** A webhook secret replaced by a flow write: its blob keeps verifying until `expires_at` (ISO). */
export interface RetiredSecretRow {
  owner: string;
  key_id: string;
  ciphertext: string;
  retired_at: string;
  expires_at: string;
}

export interface FlowWrite {
  id: string;
  org_id: string;
  enabled: boolean;
  doc: FlowDoc;
  disable_details: DisableDetails | null;
  at: string;
  actor: string;
  triggers: FlowTriggerIndexRow[];
  secrets: FlowSecretRow[];
  /** The webhook triggers' URL tokens, hashed (webhook_tokens). */
  tokens: WebhookTokenRow[];
  /**
   * Secret rotation overlap (`flow_secrets_retired`): `add` are the secrets this write replaced; earlier
   * retired rows survive only for owners in `keep`, until they expire. Absent: the table is left alone.
   */
  retired_secrets?: { add: RetiredSecretRow[]; keep: string[] };
}

interface FlowRow {
  id: string;
  org_id: string;
  flow_name: string;
  enabled: number;
  entity_schema: string | null;
  doc: string;
  version: number;
  runs: number;
  success_count: number;
  failure_count: number;
  consecutive_failures: number;
  last_run_at: string | null;
  disable_details: string | null;
  created_at: string;
  updated_at: string;
  created_by: string;
  last_updated_by: string;
}

const COLUMNS =
  "f.id, f.org_id, f.flow_name, f.enabled, f.entity_schema, f.doc, f.version, f.runs, f.success_count, f.failure_count, " +
  "f.consecutive_failures, f.last_run_at, f.disable_details, f.created_at, f.updated_at, f.created_by, f.last_updated_by";

function toFlow(row: FlowRow): AutomationFlow {
  const doc = JSON.parse(row.doc) as FlowDoc;
  const finished = row.success_count + row.failure_count;
  return {
    id: row.id,
    ...doc,
    enabled: row.enabled === 1,
    org_id: row.org_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    created_by: row.created_by,
    last_updated_by: row.last_updated_by,
    version: row.version,
    runs: row.runs,
    last_run_at: row.last_run_at,
    success_rate: finished > 0 ? row.success_count / finished : null,
    consecutive_failures: row.consecutive_failures,
    ...(row.disable_details ? { disable_details: JSON.parse(row.disable_details) as DisableDetails } : {}),
  };
}

/** Flows from their rows; a row in the earlier webhook-token layout is upgraded first (store/webhook-tokens.ts). */
async function toFlows(db: D1Database, rows: FlowRow[]): Promise<AutomationFlow[]> {
  const now = isoNow();
  return Promise.all(rows.map(async (r) => toFlow((await upgradeLegacyTokens(db, r, now)).row)));
}

/** Statements that replace the flow's index and secrets, run only while `guard` (SQL + binds) holds. */
function sideTableStatements(db: D1Database, w: FlowWrite, guard: { sql: string; binds: unknown[] }): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [
    db
      .prepare(`DELETE FROM flow_triggers WHERE org_id = ? AND flow_id = ? AND ${guard.sql}`)
      .bind(w.org_id, w.id, ...guard.binds),
    db.prepare(`DELETE FROM flow_secrets WHERE org_id = ? AND flow_id = ? AND ${guard.sql}`).bind(w.org_id, w.id, ...guard.binds),
  ];
  for (const t of w.triggers) {
    out.push(
      db
        .prepare(
          `INSERT INTO flow_triggers (org_id, flow_id, trigger_id, trigger_type, source_key, enabled)
           SELECT ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
        )
        .bind(w.org_id, w.id, t.trigger_id, t.trigger_type, t.source_key, w.enabled ? 1 : 0, ...guard.binds),
    );
  }
  for (const s of w.secrets) {
    out.push(
      db
        .prepare(
          `INSERT INTO flow_secrets (org_id, flow_id, trigger_id, key_id, ciphertext, created_at)
           SELECT ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
        )
        .bind(w.org_id, w.id, s.owner, s.key_id, s.ciphertext, s.created_at, ...guard.binds),
    );
  }
  out.push(...tokenStatements(db, w, guard));
  if (w.retired_secrets) out.push(...retiredSecretStatements(db, w, w.retired_secrets, guard));
  return out;
}

/** Drops expired and no longer wanted retired secrets, adds the newly retired ones, keeps the newest few per owner. */
function retiredSecretStatements(
  db: D1Database,
  w: FlowWrite,
  r: NonNullable<FlowWrite["retired_secrets"]>,
  guard: { sql: string; binds: unknown[] },
): D1PreparedStatement[] {
  const out = [
    db
      .prepare(
        `DELETE FROM flow_secrets_retired WHERE org_id = ? AND flow_id = ? AND ${guard.sql}
           AND (expires_at <= ? OR trigger_id NOT IN (SELECT value FROM json_each(?)))`,
      )
      .bind(w.org_id, w.id, ...guard.binds, w.at, JSON.stringify(r.keep)),
  ];
  for (const s of r.add) {
    out.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO flow_secrets_retired (org_id, flow_id, trigger_id, key_id, ciphertext, retired_at, expires_at)
           SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
        )
        .bind(w.org_id, w.id, s.owner, s.key_id, s.ciphertext, s.retired_at, s.expires_at, ...guard.binds),
    );
  }
  if (r.add.length > 0) {
    out.push(
      db
        .prepare(
          `DELETE FROM flow_secrets_retired WHERE org_id = ? AND flow_id = ? AND rowid IN (
             SELECT rowid FROM (
               SELECT rowid, ROW_NUMBER() OVER (PARTITION BY trigger_id ORDER BY retired_at DESC, rowid DESC) AS n
               FROM flow_secrets_retired WHERE org_id = ? AND flow_id = ?)
             WHERE n > ?)`,
        )
        .bind(w.org_id, w.id, w.org_id, w.id, LIMITS.MAX_WEBHOOK_RETIRED_SECRETS),
    );
  }
  return out;
}

export async function insertFlow(db: D1Database, w: FlowWrite): Promise<void> {
  const insert = db
    .prepare(
      `INSERT INTO flows (id, org_id, flow_name, enabled, entity_schema, doc, version, disable_details,
                          created_at, updated_at, created_by, last_updated_by)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
    )
    .bind(
      w.id,
      w.org_id,
      w.doc.flow_name,
      w.enabled ? 1 : 0,
      w.doc.entity_schema ?? null,
      JSON.stringify(w.doc),
      w.disable_details ? JSON.stringify(w.disable_details) : null,
      w.at,
      w.at,
      w.actor,
      w.actor,
    );
  await db.batch([insert, ...sideTableStatements(db, w, { sql: "1 = 1", binds: [] })]);
  invalidateFlow(w.id);
}

/**
 * Replaces a flow's document if it is still at `expectedVersion`, and bumps the version. The index and
 * secrets are rewritten in the same transaction, guarded so they change only if the flow row did.
 */
export async function replaceFlow(db: D1Database, w: FlowWrite, expectedVersion: number): Promise<"ok" | "conflict"> {
  const update = db
    .prepare(
      `UPDATE flows SET flow_name = ?, enabled = ?, entity_schema = ?, doc = ?, disable_details = ?, version = version + 1,
              updated_at = ?, last_updated_by = ?,
              consecutive_failures = CASE WHEN enabled = 0 AND ? = 1 THEN 0 ELSE consecutive_failures END
       WHERE org_id = ? AND id = ? AND version = ?`,
    )
    .bind(
      w.doc.flow_name,
      w.enabled ? 1 : 0,
      w.doc.entity_schema ?? null,
      JSON.stringify(w.doc),
      w.disable_details ? JSON.stringify(w.disable_details) : null,
      w.at,
      w.actor,
      w.enabled ? 1 : 0,
      w.org_id,
      w.id,
      expectedVersion,
    );
  const guard = {
    sql: "EXISTS (SELECT 1 FROM flows WHERE org_id = ? AND id = ? AND version = ? AND updated_at = ? AND last_updated_by = ?)",
    binds: [w.org_id, w.id, expectedVersion + 1, w.at, w.actor],
  };
  const [res] = await db.batch([update, ...sideTableStatements(db, w, guard)]);
  invalidateFlow(w.id);
  return res.meta.changes > 0 ? "ok" : "conflict";
}

export interface WebhookTarget {
  flow: AutomationFlow;
  /** The flow's trigger secrets (owner = trigger id; action secrets left out). */
  secrets: FlowSecretRow[];
  /** Retired trigger secrets still within their overlap, newest first. */
  retired: RetiredSecretRow[];
  /** The webhook triggers' URL tokens, hashed. */
  tokens: WebhookTokenRow[];
}

/**
 * A flow by id in any organization, with its trigger secrets: one D1 round trip for the public webhook
 * endpoint, whose URL names the flow but no org (the signing secret, not a credential, authenticates the
 * call). The secret queries filter on the flow's own org. Everything else uses getFlow.
 */
export async function getWebhookTarget(db: D1Database, flowId: string, at: string): Promise<WebhookTarget | null> {
  const org = "(SELECT org_id FROM flows WHERE id = ?)";
  const [flow, secrets, retired, tokens] = await db.batch([
    db.prepare(`SELECT ${COLUMNS} FROM flows f WHERE f.id = ?`).bind(flowId),
    db
      .prepare(
        `SELECT trigger_id AS owner, key_id, ciphertext, created_at FROM flow_secrets
         WHERE org_id = ${org} AND flow_id = ? AND trigger_id NOT LIKE 'action:%'`,
      )
      .bind(flowId, flowId),
    db
      .prepare(
        `SELECT trigger_id AS owner, key_id, ciphertext, retired_at, expires_at FROM flow_secrets_retired
         WHERE org_id = ${org} AND flow_id = ? AND expires_at > ? ORDER BY retired_at DESC`,
      )
      .bind(flowId, flowId, at),
    db
      .prepare(`SELECT trigger_id AS owner, token_hash, created_at FROM webhook_tokens WHERE org_id = ${org} AND flow_id = ?`)
      .bind(flowId, flowId),
  ]);
  const read = flow.results[0] as FlowRow | undefined;
  if (!read) return null;
  const up = await upgradeLegacyTokens(db, read, at);
  return {
    flow: toFlow(up.row),
    secrets: secrets.results as FlowSecretRow[],
    retired: retired.results as RetiredSecretRow[],
    tokens: [...(tokens.results as WebhookTokenRow[]), ...up.tokens],
  };
}

export async function getFlow(db: D1Database, orgId: string, id: string): Promise<AutomationFlow | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM flows f WHERE f.org_id = ? AND f.id = ?`).bind(orgId, id).first<FlowRow>();
  return row ? (await toFlows(db, [row]))[0] : null;
}

/** The org's flows among `ids`, in the order of `ids` (unknown and foreign ids are left out). */
export async function getFlowsByIds(db: D1Database, orgId: string, ids: string[]): Promise<AutomationFlow[]> {
  if (ids.length === 0) return [];
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM flows f WHERE f.org_id = ? AND f.id IN (SELECT value FROM json_each(?))`)
    .bind(orgId, JSON.stringify(ids))
    .all<FlowRow>();
  const byId = new Map((await toFlows(db, results)).map((f) => [f.id, f]));
  return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
}

export interface FlowSearch {
  schema?: string;
  trigger_source_id?: string;
  target_workflow?: string;
  include_flows?: boolean;
  enabled?: boolean;
  trigger_type?: string;
}

const hasTrigger = (condition: string) =>
  `EXISTS (SELECT 1 FROM flow_triggers t WHERE t.org_id = f.org_id AND t.flow_id = f.id AND ${condition})`;

export async function searchFlows(
  db: D1Database,
  orgId: string,
  q: FlowSearch,
  limit: number,
  offset: number,
): Promise<{ total: number; results: AutomationFlow[] }> {
  const where = ["f.org_id = ?"];
  const binds: unknown[] = [orgId];
  if (q.schema !== undefined) {
    where.push(
      `(f.entity_schema = ? OR ${hasTrigger("t.trigger_type IN ('entity_operation', 'entity_manual', 'activity') AND t.source_key = ?")})`,
    );
    binds.push(q.schema, q.schema);
  }
  if (q.trigger_source_id !== undefined) {
    where.push(
      hasTrigger("t.trigger_type IN ('api_submission', 'frontend_submission', 'journey_submission') AND t.source_key = ?"),
    );
    binds.push(q.trigger_source_id);
  }
  if (q.target_workflow !== undefined) {
    where.push(
      `EXISTS (SELECT 1 FROM json_each(f.doc, '$.actions') a
               WHERE json_extract(a.value, '$.type') = 'trigger-workflow' AND json_extract(a.value, '$.config.target_workflow') = ?)`,
    );
    binds.push(q.target_workflow);
  }
  // epilot hides Workflows V2 automations (flows_trigger) unless asked for them.
  if (!q.include_flows) where.push(`NOT ${hasTrigger("t.trigger_type = 'flows_trigger'")}`);
  if (q.enabled !== undefined) {
    where.push("f.enabled = ?");
    binds.push(q.enabled ? 1 : 0);
  }
  if (q.trigger_type !== undefined) {
    where.push(hasTrigger("t.trigger_type = ?"));
    binds.push(q.trigger_type);
  }
  const clause = where.join(" AND ");
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM flows f WHERE ${clause}`).bind(...binds),
    db
      .prepare(`SELECT ${COLUMNS} FROM flows f WHERE ${clause} ORDER BY f.created_at DESC, f.id LIMIT ? OFFSET ?`)
      .bind(...binds, limit, offset),
  ]);
  const total = (count.results[0] as { n: number } | undefined)?.n ?? 0;
  return { total, results: await toFlows(db, rows.results as FlowRow[]) };
}

/** Deletes a flow with its index and secrets; false if the org has no such flow. */
export async function deleteFlow(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const [res] = await db.batch([
    db.prepare(`DELETE FROM flows WHERE org_id = ? AND id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM flow_triggers WHERE org_id = ? AND flow_id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM flow_secrets WHERE org_id = ? AND flow_id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM flow_secrets_retired WHERE org_id = ? AND flow_id = ?`).bind(orgId, id),
    db.prepare(`DELETE FROM webhook_tokens WHERE org_id = ? AND flow_id = ?`).bind(orgId, id),
  ]);
  invalidateFlow(id);
  return res.meta.changes > 0;
}

/**
 * Enables or disables a flow (and its index rows). Enabling clears disable_details and the consecutive
 * failure count, so a flow the circuit breaker stopped gets a fresh start. Does not change `version`.
 */
export async function setFlowEnabled(
  db: D1Database,
  orgId: string,
  id: string,
  enabled: boolean,
  details: DisableDetails | null,
  at: string,
  actor: string,
): Promise<boolean> {
  const [res] = await db.batch([
    db
      .prepare(
        `UPDATE flows SET enabled = ?, disable_details = ?, updated_at = ?, last_updated_by = ?,
                consecutive_failures = CASE WHEN ? = 1 THEN 0 ELSE consecutive_failures END
         WHERE org_id = ? AND id = ?`,
      )
      .bind(enabled ? 1 : 0, details ? JSON.stringify(details) : null, at, actor, enabled ? 1 : 0, orgId, id),
    db.prepare(`UPDATE flow_triggers SET enabled = ? WHERE org_id = ? AND flow_id = ?`).bind(enabled ? 1 : 0, orgId, id),
  ]);
  invalidateFlow(id);
  return res.meta.changes > 0;
}
