import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import {
  countResources,
  deleteResource,
  getResource,
  insertResource,
  listResources,
  updateResource,
  type ResourceRow,
  type ResourceTable,
} from "../store/platform-resources";

/**
 * The use cases every named platform resource shares (webhook targets, e-mail and document templates, inboxes,
 * mapping configs): org-scoped reads that 404 for unknown and foreign ids alike, a per-org count limit on
 * create, updates and deletes that 404 when the row is gone.
 */

export async function requireResource<R extends ResourceRow>(
  env: Env,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
  noun: string,
): Promise<R> {
  const row = await getResource(env.DB, t, orgId, id);
  if (!row) throw notFound(noun);
  return row;
}

export async function createResource<R extends ResourceRow>(env: Env, t: ResourceTable<R>, row: R, noun: string): Promise<R> {
  if ((await countResources(env.DB, t, row.org_id)) >= LIMITS.MAX_PLATFORM_RESOURCES_PER_ORG) {
    throw new AppError(
      409,
      "LIMIT_REACHED",
      `${noun}: an organization may have at most ${LIMITS.MAX_PLATFORM_RESOURCES_PER_ORG} of them (MAX_PLATFORM_RESOURCES_PER_ORG)`,
    );
  }
  await insertResource(env.DB, t, row);
  return row;
}

export async function changeResource<R extends ResourceRow>(
  env: Env,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
  patch: Partial<Omit<R, "id" | "org_id" | "created_by" | "created_at">>,
  noun: string,
): Promise<R> {
  if (!(await updateResource(env.DB, t, orgId, id, patch))) throw notFound(noun);
  return requireResource(env, t, orgId, id, noun);
}

export async function removeResource<R extends ResourceRow>(
  env: Env,
  t: ResourceTable<R>,
  orgId: string,
  id: string,
  noun: string,
): Promise<void> {
  if (!(await deleteResource(env.DB, t, orgId, id))) throw notFound(noun);
}

export const pageOf = <R extends ResourceRow>(env: Env, t: ResourceTable<R>, orgId: string, limit: number, offset: number) =>
  listResources(env.DB, t, orgId, limit, offset);
