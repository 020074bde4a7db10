import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import {
  deletePartnership,
  getPartner,
  getSharedWith,
  insertPartnership,
  listSharedWith,
  type PartnerView,
  type SharedRecordRow,
} from "../store/partners";
import { toSnapshot } from "./records";

/**
 * Partnerships (docs/platform.md): an organization asks for a partnership with another by id; it is active once
 * the other asked too. trigger-share-entity shares records with active partners, who read them (live, read-only)
 * under /v1/shared-entities while both sides keep the partnership.
 */

export async function requestPartnership(
  env: Env,
  p: Principal,
  partnerOrgId: string,
): Promise<{ created: boolean; partner: PartnerView }> {
  if (partnerOrgId === p.orgId) {
    throw new AppError(400, "VALIDATION_ERROR", "An organization cannot partner with itself", [
      { path: "partner_org_id", location: "json", message: "is this organization" },
    ]);
  }
  const created = await insertPartnership(env.DB, {
    org_id: p.orgId,
    partner_org_id: partnerOrgId,
    created_by: p.actor,
    created_at: isoNow(),
  });
  return { created, partner: (await getPartner(env.DB, p.orgId, partnerOrgId))! };
}

/** A partner of the org: one it asked, or one that asked it (404 otherwise, as for any unknown id). */
export async function requirePartner(env: Env, orgId: string, partnerOrgId: string): Promise<PartnerView> {
  const partner = await getPartner(env.DB, orgId, partnerOrgId);
  if (!partner) throw notFound("Partner");
  return partner;
}

/** Withdraws this side's request: an active partnership ends, and the partner no longer reads what was shared. */
export async function endPartnership(env: Env, orgId: string, partnerOrgId: string): Promise<void> {
  if (!(await deletePartnership(env.DB, orgId, partnerOrgId))) throw notFound("Partner");
}

const sharedView = (r: SharedRecordRow) => ({ ...toSnapshot(r), _source_org: r.org_id, _shared_at: r.shared_at });

export async function sharedWithMe(env: Env, orgId: string, limit: number, offset: number) {
  const page = await listSharedWith(env.DB, orgId, limit, offset);
  return { total: page.total, results: page.results.map(sharedView) };
}

export async function requireSharedWithMe(env: Env, orgId: string, entityId: string) {
  const row = await getSharedWith(env.DB, orgId, entityId);
  if (!row) throw notFound("Shared entity");
  return sharedView(row);
}
