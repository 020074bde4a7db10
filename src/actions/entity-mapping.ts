import { z } from "zod";
import {
  applyMapping,
  pickRelations,
  relationValue,
  type Mapping,
  type RelationAttributeSpec,
  type RelationCandidate,
} from "../engine/mapping";
import { relationRefs } from "../engine/relations";
import { recordChangeEvents, sendRecordEvent } from "../services/record-events";
import { createRecord, updateRecord } from "../services/records";
import { MAPPING_CONFIGS, getResource } from "../store/platform-resources";
import { filterToSql } from "../store/record-sql";
import { getRecord, getRecordsByIds, searchRecords } from "../store/records";
import type { SideEffect } from "../engine/reruns/side-effects";
import { automationActor, automationEvent, recordEffect, recordFailure } from "./records";
import { permanentFailure, type ActionContext, type ActionResult } from "./types";

/**
 * The mapping map-entity and cart-checkout share: a target record built from the execution's record by attribute
 * operations and relation attributes, created, or updated when `target_unique` (or a fixed key) finds one, and
 * linked back on the source record. A `mapping_config` (docs/platform.md) contributes its target's settings,
 * extended by the action's own.
 */

type Attrs = Record<string, unknown>;

const V1Mapping = z.object({
  mode: z.enum(["copy_if_exists", "append_if_exists", "set_value"]),
  target: z.string().min(1),
  source: z.string().optional(),
  value: z.unknown().optional(),
  value_json: z.string().optional(),
});
const V2Mapping = z.object({ target: z.string().min(1), operation: z.record(z.string(), z.unknown()) });
export const MappingList = z.array(z.union([V2Mapping, V1Mapping]));
export const RelationList = z.array(
  z.looseObject({
    target: z.string().min(1),
    mode: z.enum(["append", "prepend", "set"]),
    target_tags: z.array(z.string()).optional(),
    target_tags_include_source: z.boolean().optional(),
    source_filter: z
      .looseObject({
        limit: z.number().int().min(0).optional(),
        schema: z.string().optional(),
        attribute: z.string().optional(),
        relation_tag: z.string().optional(),
        tag: z.string().optional(),
        self: z.boolean().optional(),
      })
      .optional(),
  }),
);

export const MappingConfigRef = z.looseObject({ config_id: z.string(), target_id: z.string(), version: z.number().optional() });

/** A mapping config's target, as stored (services/mapping-configs.ts validated it). */
export interface MappingTarget {
  id: string;
  target_schema: string;
  target_unique?: string[];
  mapping_attributes?: Mapping[];
  relation_attributes?: RelationAttributeSpec[];
  linkback_relation_attribute?: string | false;
  linkback_relation_tags?: string[];
}

/** The target `ref` names, or a failure saying why it cannot be used. */
export async function mappingTarget(
  ctx: Pick<ActionContext, "env" | "orgId" | "entity">,
  ref: z.output<typeof MappingConfigRef>,
): Promise<MappingTarget | ActionResult> {
  const config = await getResource(ctx.env.DB, MAPPING_CONFIGS, ctx.orgId, ref.config_id);
  const target = config?.targets.find((t) => t.id === ref.target_id) as MappingTarget | undefined;
  if (!config || !target) {
    return permanentFailure(
      "BAD_CONFIG",
      `Mapping config ${ref.config_id}${config ? ` has no target ${ref.target_id}` : " does not exist"} (deleted after the flow was saved?)`,
      { code: "MAPPING_CONFIG_NOT_FOUND", config_id: ref.config_id, target_id: ref.target_id },
    );
  }
  if (ref.version !== undefined && ref.version !== config.version) {
    return permanentFailure("MAPPING_ERROR", `Mapping config ${config.id} is at version ${config.version}, not ${ref.version}`);
  }
  const schema = ctx.entity?._schema;
  if (typeof schema === "string" && schema !== config.source_schema) {
    return permanentFailure(
      "MAPPING_ERROR",
      `Mapping config ${config.id} maps ${config.source_schema} records; this execution's record is a ${schema}`,
    );
  }
  return target;
}

export interface MappingPlan {
  targetSchema: string;
  /** Attributes of the target before the mappings apply (cart-checkout's order). */
  base?: Attrs;
  mappings: Mapping[];
  relations: RelationAttributeSpec[];
  targetUnique?: string[];
  /** An attribute whose value finds the target made by an earlier attempt (cart-checkout's checkout key). */
  key?: { attribute: string; value: string };
  linkback: string | false;
  linkbackTags?: string[];
}

/** Relation candidates of the source record, with the related records' schema and tags loaded. */
async function candidates(ctx: ActionContext, source: Attrs): Promise<RelationCandidate[]> {
  const refs = relationRefs(source);
  const rows = await getRecordsByIds(ctx.env.DB, ctx.orgId, [...new Set(refs.map((r) => r.entity_id))]);
  const byId = new Map(rows.map((r) => [r.id, { schema: r.schema, tags: r.tags }]));
  return refs.map((r) => ({ ...r, record: byId.get(r.entity_id) }));
}

/** Finds the existing target: by the fixed key, else by target_unique (which needs a value for each attribute). */
async function existingTarget(ctx: ActionContext, plan: MappingPlan, attrs: Attrs): Promise<string | null | ActionResult> {
  const db = ctx.env.DB;
  let term: Record<string, string | number | boolean> | null = null;
  if (plan.key) term = { [plan.key.attribute]: plan.key.value };
  else if (plan.targetUnique?.length) {
    const missing = plan.targetUnique.filter((k) => attrs[k] === undefined);
    if (missing.length) return permanentFailure("MAPPING_ERROR", `Unique attributes without a value: ${missing.join(", ")}`);
    term = Object.fromEntries(plan.targetUnique.map((k) => [k, attrs[k] as string | number | boolean]));
  }
  if (!term) return null;
  const found = await searchRecords(db, ctx.orgId, plan.targetSchema, filterToSql([{ term }]), 2, 0);
  if (found.total > 1)
    return permanentFailure("DUPLICATE_ENTITY_ERROR", `More than one ${plan.targetSchema} matches the unique attributes`);
  return found.results[0]?.id ?? null;
}

export async function mapToTarget(ctx: ActionContext, plan: MappingPlan): Promise<ActionResult> {
  const source = (ctx.entity ?? {}) as Attrs;
  const attrs: Attrs = { ...plan.base };
  try {
    for (const m of plan.mappings) applyMapping(attrs, source, m);
  } catch (err) {
    return permanentFailure("MAPPING_ERROR", `Mapping failed: ${(err as Error).message}`);
  }
  const db = ctx.env.DB;
  const actor = automationActor(ctx);
  // What was written so far: a failure after the first write still reports it (the ledger).
  const written: SideEffect[] = [];
  try {
    const targetId = await existingTarget(ctx, plan, attrs);
    if (targetId !== null && typeof targetId !== "string") return targetId;
    if (plan.relations.length) {
      const all = await candidates(ctx, source);
      const self =
        typeof source._id === "string"
          ? { attribute: "", entity_id: source._id, schema: String(source._schema ?? ""), tags: (source._tags as string[]) ?? [] }
          : null;
      const existing = targetId ? await getRecord(db, ctx.orgId, plan.targetSchema, targetId) : null;
      for (const spec of plan.relations) {
        const current = attrs[spec.target] ?? existing?.data[spec.target];
        attrs[spec.target] = relationValue(spec.mode, current, pickRelations(spec, all, self));
      }
    }
    const events = recordChangeEvents(ctx.env, automationEvent(ctx));
    const result = targetId
      ? await updateRecord(db, ctx.orgId, actor, plan.targetSchema, targetId, attrs, events)
      : await createRecord(db, ctx.orgId, actor, plan.targetSchema, attrs, events);
    const record = result.record!;
    const effect: SideEffect = {
      ...recordEffect(ctx, plan.targetSchema, targetId ? "updated" : "created", record._id),
      outcome: "ok",
    };
    written.push(effect);
    await sendRecordEvent(result);
    // The link back is part of this write: noted on it, so a rerun's preview (which cannot know whether the link
    // exists by then) and the ledger name the same effects.
    const linked = await linkBack(ctx, plan, source, record._id);
    if (linked) effect.note = `linked back on ${linked}`;
    return {
      kind: "success",
      outputs: { entity_id: record._id, target_schema: plan.targetSchema, operation: targetId ? "updated" : "created", record },
      effects: written,
    };
  } catch (err) {
    const failure = recordFailure(err, "MAPPING_ERROR");
    return written.length ? { ...failure, effects: written } : failure;
  }
}

/** Adds the target to the source record's linkback relation attribute (once); returns the record it linked on. */
async function linkBack(ctx: ActionContext, plan: MappingPlan, source: Attrs, targetId: string): Promise<string | null> {
  const attr = plan.linkback;
  const schema = typeof source._schema === "string" ? source._schema : undefined;
  if (!attr || !schema || !ctx.entityId) return null;
  const existing = (Array.isArray(source[attr]) ? source[attr] : []) as { entity_id?: string }[];
  if (existing.some((r) => r?.entity_id === targetId)) return null;
  const link = { entity_id: targetId, _schema: plan.targetSchema, ...(plan.linkbackTags ? { _tags: plan.linkbackTags } : {}) };
  const linked = await updateRecord(
    ctx.env.DB,
    ctx.orgId,
    automationActor(ctx),
    schema,
    ctx.entityId,
    { [attr]: [...existing, link] },
    recordChangeEvents(ctx.env, automationEvent(ctx, ":linkback")),
  );
  await sendRecordEvent(linked);
  return `${schema}/${ctx.entityId}`;
}
