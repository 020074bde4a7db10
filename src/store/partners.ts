import type { RecordRow } from "./records";

/**
 * Partnerships between organizations and the records shared through them (migration 0060). A partnership
 * row is one side asking; the partnership is active when both sides asked. Shared records are read live from
 * the owner's `records` rows, and only while the partnership is active: the only statements of the project that
 * read another organization's rows, always joined to both partnership rows.
 */

export interface PartnershipRow {
  org_id: string;
  partner_org_id: string;
  created_by: string;
  created_at: string;
}

export interface PartnerView {
  partner_org_id: string;
  /** `active`: both asked; `pending`: this org asked; `invited`: the partner asked, this org has not. */
  status: "active" | "pending" | "invited";
  requested_at: string | null;
  partner_requested_at: string | null;
}

/** Inserts this side's request; false when it already existed. */
export async function insertPartnership(db: D1Database, row: PartnershipRow): Promise<boolean> {
  const res = await db
    .prepare(
      `INSERT INTO partnerships (org_id, partner_org_id, created_by, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (org_id, partner_org_id) DO NOTHING`,
    )
    .bind(row.org_id, row.partner_org_id, row.created_by, row.created_at)
    .run();
  return res.meta.changes > 0;
}

export async function deletePartnership(db: D1Database, orgId: string, partnerOrgId: string): Promise<boolean> {
  const res = await db
    .prepare(`DELETE FROM partnerships WHERE org_id = ? AND partner_org_id = ?`)
    .bind(orgId, partnerOrgId)
    .run();
  return res.meta.changes > 0;
}

const VIEW = `
  SELECT partner_org_id,
    CASE WHEN mine IS NOT NULL AND theirs IS NOT NULL THEN 'active' WHEN mine IS NOT NULL THEN 'pending' ELSE 'invited' END AS status,
    mine AS requested_at, theirs AS partner_requested_at
  FROM (
    SELECT partner_org_id, MAX(mine) AS mine, MAX(theirs) AS theirs FROM (
      SELECT partner_org_id, created_at AS mine, NULL AS theirs FROM partnerships WHERE org_id = ?1
      UNION ALL
      SELECT org_id AS partner_org_id, NULL AS mine, created_at AS theirs FROM partnerships WHERE partner_org_id = ?1
    ) GROUP BY partner_org_id
  )`;

/** Every organization this one asked, or that asked this one, with the partnership's status. */
export async function listPartners(
  db: D1Database,
  orgId: string,
  limit: number,
  offset: number,
): Promise<{ total: number; results: PartnerView[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n FROM (${VIEW})`).bind(orgId),
    db.prepare(`${VIEW} ORDER BY partner_org_id LIMIT ?2 OFFSET ?3`).bind(orgId, limit, offset),
  ]);
  return { total: (count.results[0] as { n: number } | undefined)?.n ?? 0, results: rows.results as PartnerView[] };
}

export async function getPartner(db: D1Database, orgId: string, partnerOrgId: string): Promise<PartnerView | null> {
  return db.prepare(`SELECT * FROM (${VIEW}) WHERE partner_org_id = ?2`).bind(orgId, partnerOrgId).first<PartnerView>();
}

/** Of `partnerOrgIds`, those with an active partnership (both sides asked). */
export async function activePartners(db: D1Database, orgId: string, partnerOrgIds: string[]): Promise<Set<string>> {
  if (partnerOrgIds.length === 0) return new Set();
  const rows = await db
    .prepare(
      `SELECT a.partner_org_id AS id FROM partnerships a
       JOIN partnerships b ON b.org_id = a.partner_org_id AND b.partner_org_id = a.org_id
       WHERE a.org_id = ? AND a.partner_org_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(orgId, JSON.stringify(partnerOrgIds))
    .all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}

/** Of `partnerOrgIds`, those this org asked (pending or active). */
export async function requestedPartners(db: D1Database, orgId: string, partnerOrgIds: string[]): Promise<Set<string>> {
  if (partnerOrgIds.length === 0) return new Set();
  const rows = await db
    .prepare(
      `SELECT partner_org_id AS id FROM partnerships WHERE org_id = ? AND partner_org_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(orgId, JSON.stringify(partnerOrgIds))
    .all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}

/** Shares the record with each partner (again: the time is updated). */
export async function shareEntity(
  db: D1Database,
  orgId: string,
  partnerOrgIds: string[],
  entity: { id: string; schema: string },
  sharedBy: string,
  at: string,
): Promise<void> {
  await db.batch(
    partnerOrgIds.map((p) =>
      db
        .prepare(
          `INSERT INTO shared_entities (org_id, partner_org_id, entity_id, entity_schema, shared_by, shared_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (org_id, partner_org_id, entity_id) DO UPDATE SET shared_by = excluded.shared_by, shared_at = excluded.shared_at`,
        )
        .bind(orgId, p, entity.id, entity.schema, sharedBy, at),
    ),
  );
}

export interface SharedRecordRow extends RecordRow {
  shared_at: string;
}

type RawShared = Omit<SharedRecordRow, "tags" | "data"> & { tags: string; data: string };

/** Shared records the owner still has, through a partnership both sides still hold. */
const SHARED = `
  FROM shared_entities s
  JOIN partnerships mine ON mine.org_id = s.partner_org_id AND mine.partner_org_id = s.org_id
  JOIN partnerships theirs ON theirs.org_id = s.org_id AND theirs.partner_org_id = s.partner_org_id
  JOIN records r ON r.org_id = s.org_id AND r.id = s.entity_id
  WHERE s.partner_org_id = ? AND json_extract(r.data, '$._deleted_at') IS NULL`;
const COLUMNS =
  "r.id, r.org_id, r.schema, r.title, r.tags, r.data, r.created_at, r.updated_at, r.created_by, r.version, s.shared_at";

const fromRaw = (r: RawShared): SharedRecordRow => ({
  ...r,
  title: r.title ?? "",
  tags: JSON.parse(r.tags) as string[],
  data: JSON.parse(r.data) as RecordRow["data"],
});

export async function listSharedWith(
  db: D1Database,
  partnerOrgId: string,
  limit: number,
  offset: number,
): Promise<{ total: number; results: SharedRecordRow[] }> {
  const [count, rows] = await db.batch([
    db.prepare(`SELECT COUNT(*) AS n ${SHARED}`).bind(partnerOrgId),
    db
      .prepare(`SELECT ${COLUMNS} ${SHARED} ORDER BY s.shared_at DESC, s.entity_id LIMIT ? OFFSET ?`)
      .bind(partnerOrgId, limit, offset),
  ]);
  return { total: (count.results[0] as { n: number } | undefined)?.n ?? 0, results: (rows.results as RawShared[]).map(fromRaw) };
}

export async function getSharedWith(db: D1Database, partnerOrgId: string, entityId: string): Promise<SharedRecordRow | null> {
  const raw = await db.prepare(`SELECT ${COLUMNS} ${SHARED} AND s.entity_id = ?`).bind(partnerOrgId, entityId).first<RawShared>();
  return raw ? fromRaw(raw) : null;
}
