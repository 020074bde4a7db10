import type { Env } from "../env";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import type { MappingTargetInput } from "../schemas/mapping-configs";
import { MAPPING_CONFIGS, type MappingConfigRow } from "../store/platform-resources";
import { changeResource, createResource, pageOf, removeResource, requireResource } from "./platform-resources";

/** Mapping configs (docs/platform.md): what `mapping_config` of map-entity and cart-checkout names. */

const NOUN = "Mapping config";

export const toMappingConfigView = (r: MappingConfigRow) => ({
  id: r.id,
  name: r.name,
  source_schema: r.source_schema,
  targets: r.targets as (MappingTargetInput & { id: string })[],
  version: r.version,
  created_by: r.created_by,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** Targets with ids: a target sent without one keeps the id of the stored target of the same schema, else a new one. */
function withIds(targets: MappingTargetInput[], stored: Record<string, unknown>[] = []): Record<string, unknown>[] {
  const used = new Set(targets.map((t) => t.id).filter(Boolean));
  return targets.map((t) => {
    if (t.id) return t;
    const reuse = stored.find((s) => s.target_schema === t.target_schema && typeof s.id === "string" && !used.has(s.id));
    const id = typeof reuse?.id === "string" ? reuse.id : newId();
    used.add(id);
    return { ...t, id };
  });
}

export const mappingConfigUseCases = {
  list: async (env: Env, orgId: string, limit: number, offset: number) => {
    const page = await pageOf(env, MAPPING_CONFIGS, orgId, limit, offset);
    return { total: page.total, results: page.results.map(toMappingConfigView) };
  },
  get: async (env: Env, orgId: string, id: string) =>
    toMappingConfigView(await requireResource(env, MAPPING_CONFIGS, orgId, id, NOUN)),
  async create(env: Env, p: Principal, input: { name: string; source_schema: string; targets: MappingTargetInput[] }) {
    const at = isoNow();
    const row: MappingConfigRow = {
      id: newId(),
      org_id: p.orgId,
      name: input.name,
      source_schema: input.source_schema,
      targets: withIds(input.targets),
      version: 1,
      created_by: p.actor,
      created_at: at,
      updated_at: at,
    };
    return toMappingConfigView(await createResource(env, MAPPING_CONFIGS, row, NOUN));
  },
  async update(
    env: Env,
    p: Principal,
    id: string,
    input: { name?: string; source_schema?: string; targets?: MappingTargetInput[] },
  ) {
    const stored = await requireResource(env, MAPPING_CONFIGS, p.orgId, id, NOUN);
    const patch: Partial<MappingConfigRow> = { updated_at: isoNow() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.source_schema !== undefined) patch.source_schema = input.source_schema;
    if (input.targets !== undefined) patch.targets = withIds(input.targets, stored.targets);
    if (input.source_schema !== undefined || input.targets !== undefined) patch.version = stored.version + 1;
    return toMappingConfigView(await changeResource(env, MAPPING_CONFIGS, p.orgId, id, patch, NOUN));
  },
  remove: (env: Env, orgId: string, id: string) => removeResource(env, MAPPING_CONFIGS, orgId, id, NOUN),
};
