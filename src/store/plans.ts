/**
 * Plans (migration 0017): `organizations.plan` and the per-day request counter `org_daily_usage`. The counter is
 * one upsert per request of an organization with a plan; organizations without one never reach this module on
 * the request path (services/plans.ts caches their "no plan").
 */

export async function getOrgPlan(db: D1Database, orgId: string): Promise<string | null> {
  const row = await db.prepare(`SELECT plan FROM organizations WHERE id = ?`).bind(orgId).first<{ plan: string | null }>();
  return row?.plan ?? null;
}

/**
 * Sets (or clears, with null) the plan of a registered organization (POST /v1/organizations). False when
 * the org is unknown or deleted: nothing changes, and the API answers 404 rather than creating an org.
 */
export async function setOrgPlan(db: D1Database, orgId: string, plan: string | null): Promise<boolean> {
  const res = await db.prepare(`UPDATE organizations SET plan = ? WHERE id = ? AND status != 'deleted'`).bind(plan, orgId).run();
  return res.meta.changes > 0;
}

/** Counts one request of the org on `day` and answers the day's count so far (this one included). */
export async function countRequest(db: D1Database, orgId: string, day: string): Promise<number> {
  const row = await db
    .prepare(
      `INSERT INTO org_daily_usage (org_id, day, requests) VALUES (?, ?, 1)
       ON CONFLICT (org_id, day) DO UPDATE SET requests = requests + 1
       RETURNING requests`,
    )
    .bind(orgId, day)
    .first<{ requests: number }>();
  return row?.requests ?? 1;
}

/** The org's counts of the days from `fromDay` on (inclusive), newest first. */
export async function usageSince(db: D1Database, orgId: string, fromDay: string): Promise<{ day: string; requests: number }[]> {
  const { results } = await db
    .prepare(`SELECT day, requests FROM org_daily_usage WHERE org_id = ? AND day >= ? ORDER BY day DESC`)
    .bind(orgId, fromDay)
    .all<{ day: string; requests: number }>();
  return results;
}
