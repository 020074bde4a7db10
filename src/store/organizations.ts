import { invalidateOrgFlows } from "./flow-invalidation";
/**
 * Organizations (`organizations`, migration 0010). An org id needs no row to be used; a row registers
 * the org or records that it was deleted. Deleting cascades in one batch: the org's API keys are revoked
 * and its flows (and their triggers) disabled, so nothing of a deleted org authenticates or fires.
 */

export type OrgStatus = "active" | "deleted";

export interface OrganizationRow {
  id: string;
  name: string;
  status: OrgStatus;
  created_at: string;
  created_by: string;
  deleted_at: string | null;
  deleted_by: string | null;
}

const COLUMNS = "id, name, status, created_at, created_by, deleted_at, deleted_by";

export async function getOrganization(db: D1Database, orgId: string): Promise<OrganizationRow | null> {
  return db.prepare(`SELECT ${COLUMNS} FROM organizations WHERE id = ?`).bind(orgId).first<OrganizationRow>();
}

/** True when the org was deleted (checked on every API key and JWT request: one primary-key read). */
export async function isOrgDeleted(db: D1Database, orgId: string): Promise<boolean> {
  const row = await db.prepare(`SELECT status FROM organizations WHERE id = ?`).bind(orgId).first<{ status: string }>();
  return row?.status === "deleted";
}

/** Registers an org; false when the id is already taken (active or deleted: deleted ids are not reused). */
export async function insertOrganization(
  db: D1Database,
  row: Pick<OrganizationRow, "id" | "name" | "created_at" | "created_by">,
): Promise<boolean> {
  const res = await db
    .prepare(
      `INSERT INTO organizations (id, name, status, created_at, created_by) VALUES (?, ?, 'active', ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .bind(row.id, row.name, row.created_at, row.created_by)
    .run();
  return res.meta.changes > 0;
}

export interface DeleteResult {
  deleted: boolean;
  revoked_api_keys: number;
  disabled_flows: number;
}

/**
 * Marks the org deleted (registering it first when it was only implicit), revokes its active API keys and
 * disables its enabled flows. `deleted` is false when it was already deleted (nothing changes then).
 */
export async function deleteOrganization(db: D1Database, orgId: string, at: string, actor: string): Promise<DeleteResult> {
  const details = JSON.stringify({
    disabled_at: at,
    disabled_by: "system",
    blame: actor,
    reason: `Organization ${orgId} was deleted`,
  });
  const [mark, keys, flows] = await db.batch([
    db
      .prepare(
        `INSERT INTO organizations (id, name, status, created_at, created_by, deleted_at, deleted_by)
         VALUES (?, ?, 'deleted', ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = 'deleted', deleted_at = excluded.deleted_at, deleted_by = excluded.deleted_by
         WHERE organizations.status != 'deleted'`,
      )
      .bind(orgId, orgId, at, actor, at, actor),
    db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND revoked_at IS NULL`).bind(at, orgId),
    db.prepare(`UPDATE flows SET enabled = 0, disable_details = ? WHERE org_id = ? AND enabled = 1`).bind(details, orgId),
    db.prepare(`UPDATE flow_triggers SET enabled = 0 WHERE org_id = ?`).bind(orgId),
  ]);
  invalidateOrgFlows(orgId);
  return { deleted: mark.meta.changes > 0, revoked_api_keys: keys.meta.changes, disabled_flows: flows.meta.changes };
}

/** The org that owns a flow, or null (the webhook rate limiter needs it before the handler reads the flow). */
export async function flowOrgId(db: D1Database, flowId: string): Promise<string | null> {
  const row = await db.prepare(`SELECT org_id FROM flows WHERE id = ?`).bind(flowId).first<{ org_id: string }>();
  return row?.org_id ?? null;
}
