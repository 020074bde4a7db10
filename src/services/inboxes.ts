import type { Env } from "../env";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import { INBOXES, type InboxRow } from "../store/platform-resources";
import { changeResource, createResource, pageOf, removeResource, requireResource } from "./platform-resources";

/** Shared inboxes (docs/platform.md): what move-thread's `target_inbox_id` and an inbound e-mail's `inbox_id` name. */

const NOUN = "Inbox";

export const toInboxView = (r: InboxRow) => ({
  id: r.id,
  name: r.name,
  address: r.address,
  created_by: r.created_by,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

export const requireInbox = (env: Env, orgId: string, id: string) => requireResource(env, INBOXES, orgId, id, NOUN);

export const inboxUseCases = {
  list: async (env: Env, orgId: string, limit: number, offset: number) => {
    const page = await pageOf(env, INBOXES, orgId, limit, offset);
    return { total: page.total, results: page.results.map(toInboxView) };
  },
  get: async (env: Env, orgId: string, id: string) => toInboxView(await requireInbox(env, orgId, id)),
  async create(env: Env, p: Principal, input: { name: string; address?: string }) {
    const at = isoNow();
    const row: InboxRow = {
      id: newId(),
      org_id: p.orgId,
      name: input.name,
      address: input.address ?? null,
      created_by: p.actor,
      created_at: at,
      updated_at: at,
    };
    return toInboxView(await createResource(env, INBOXES, row, NOUN));
  },
  async update(env: Env, p: Principal, id: string, input: { name?: string; address?: string | null }) {
    const patch: Partial<InboxRow> = { updated_at: isoNow() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.address !== undefined) patch.address = input.address;
    return toInboxView(await changeResource(env, INBOXES, p.orgId, id, patch, NOUN));
  },
  remove: (env: Env, orgId: string, id: string) => removeResource(env, INBOXES, orgId, id, NOUN),
};
