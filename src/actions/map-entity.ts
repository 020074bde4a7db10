import { z } from "zod";
import { lookupPath } from "../engine/execution/context";
import { createRecord, updateRecord } from "../services/records";
import { searchRecords } from "../store/records";
import { filterToSql } from "../store/record-sql";
import { recordChangeEvents, sendRecordEvent } from "../services/record-events";
import type { SideEffect } from "../engine/reruns/side-effects";
import { automationActor, automationEvent, recordEffect, recordFailure } from "./records";
import { defineAction, permanentFailure } from "./types";

const V1Mapping = z.object({
  mode: z.enum(["copy_if_exists", "append_if_exists", "set_value"]),
  target: z.string().min(1),
  source: z.string().optional(),
  value: z.unknown().optional(),
  value_json: z.string().optional(),
  target_unique: z.array(z.string()).optional(),
});
const V2Mapping = z.object({ target: z.string().min(1), operation: z.record(z.string(), z.unknown()) });

const MapEntityConfig = z
  .object({
    target_schema: z.string().min(1),
    target_unique: z.array(z.string()).optional(),
    mapping_attributes: z.array(z.union([V2Mapping, V1Mapping])).default([]),
    linkback_relation_attribute: z.union([z.string(), z.literal(false)]).default("mapped_entities"),
    linkback_relation_tags: z.array(z.string()).optional(),
  })
  .passthrough();

type Attrs = Record<string, unknown>;

const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const uniq = (xs: unknown[]) => xs.filter((x, i) => xs.findIndex((y) => JSON.stringify(y) === JSON.stringify(x)) === i);

/**
 * Applies one mapping to the target attributes. v1 modes: set_value (value), copy_if_exists (source
 * path of the main entity, skipped when absent), append_if_exists (source value or value_json appended).
 * v2 operations: `_set`, `_copy` (source path), `_append` (values) with `_uniq`.
 */
function applyMapping(target: Attrs, source: Attrs, m: z.infer<typeof V1Mapping> | z.infer<typeof V2Mapping>): void {
  if ("operation" in m) {
    const op = m.operation;
    if ("_set" in op) target[m.target] = op._set;
    if (typeof op._copy === "string") {
      const v = lookupPath(source, op._copy);
      if (v !== undefined) target[m.target] = v;
    }
    if ("_append" in op) {
      const next = [...asArray(target[m.target]), ...asArray(op._append)];
      target[m.target] = op._uniq ? uniq(next) : next;
    }
    return;
  }
  if (m.mode === "set_value") target[m.target] = m.value;
  else if (m.mode === "copy_if_exists") {
    const v = m.source ? lookupPath(source, m.source) : undefined;
    if (v !== undefined) target[m.target] = v;
  } else {
    const add = m.value_json !== undefined ? JSON.parse(m.value_json) : m.source ? lookupPath(source, m.source) : undefined;
    if (add !== undefined) target[m.target] = [...asArray(target[m.target]), ...asArray(add)];
  }
}

/**
 * epilot's map-entity: builds a record of `target_schema` from the main entity; with `target_unique` it
 * updates the record whose unique attributes match instead of creating one; links the result back
 * on the main entity (`linkback_relation_attribute`).
 */
export const mapEntityAction = defineAction({
  types: ["map-entity"],
  config: MapEntityConfig,
  async run(ctx, cfg) {
    const source = (ctx.entity ?? {}) as Attrs;
    const attrs: Attrs = {};
    try {
      for (const m of cfg.mapping_attributes) applyMapping(attrs, source, m);
    } catch (err) {
      return permanentFailure("MAPPING_ERROR", `Mapping failed: ${(err as Error).message}`);
    }
    const db = ctx.env.DB;
    const actor = automationActor(ctx);
    // What was written so far: a failure after the first write still reports it.
    const written: SideEffect[] = [];
    try {
      let targetId: string | null = null;
      if (cfg.target_unique?.length) {
        const missing = cfg.target_unique.filter((k) => attrs[k] === undefined);
        if (missing.length) return permanentFailure("MAPPING_ERROR", `Unique attributes without a value: ${missing.join(", ")}`);
        const filter = [{ term: Object.fromEntries(cfg.target_unique.map((k) => [k, attrs[k] as string | number | boolean])) }];
        const found = await searchRecords(db, ctx.orgId, cfg.target_schema, filterToSql(filter), 2, 0);
        if (found.total > 1)
          return permanentFailure("DUPLICATE_ENTITY_ERROR", `More than one ${cfg.target_schema} matches the unique attributes`);
        targetId = found.results[0]?.id ?? null;
      }
      const result = targetId
        ? await updateRecord(
            db,
            ctx.orgId,
            actor,
            cfg.target_schema,
            targetId,
            attrs,
            recordChangeEvents(ctx.env, automationEvent(ctx)),
          )
        : await createRecord(db, ctx.orgId, actor, cfg.target_schema, attrs, recordChangeEvents(ctx.env, automationEvent(ctx)));
      const record = result.record!;
      const effect: SideEffect = {
        ...recordEffect(ctx, cfg.target_schema, targetId ? "updated" : "created", record._id),
        outcome: "ok",
      };
      written.push(effect);
      await sendRecordEvent(result);
      const linkAttr = cfg.linkback_relation_attribute;
      const mainSchema = typeof source._schema === "string" ? source._schema : undefined;
      if (linkAttr && mainSchema && ctx.entityId) {
        const existing = asArray(source[linkAttr]) as { entity_id?: string }[];
        if (!existing.some((r) => r?.entity_id === record._id)) {
          const link = {
            entity_id: record._id,
            _schema: cfg.target_schema,
            ...(cfg.linkback_relation_tags ? { _tags: cfg.linkback_relation_tags } : {}),
          };
          const linked = await updateRecord(
            db,
            ctx.orgId,
            actor,
            mainSchema,
            ctx.entityId,
            { [linkAttr]: [...existing, link] },
            recordChangeEvents(ctx.env, automationEvent(ctx, ":linkback")),
          );
          // The link back is part of this write: noted on it, so a rerun's preview (which cannot know whether the
          // link exists by then) and its ledger name the same effects.
          effect.note = `linked back on ${mainSchema}/${ctx.entityId}`;
          await sendRecordEvent(linked);
        }
      }
      return {
        kind: "success",
        outputs: { entity_id: record._id, target_schema: cfg.target_schema, operation: targetId ? "updated" : "created", record },
        effects: written,
      };
    } catch (err) {
      const failure = recordFailure(err, "MAPPING_ERROR");
      return written.length ? { ...failure, effects: written } : failure;
    }
  },
  effects: (ctx, cfg) => [recordEffect(ctx, cfg.target_schema, cfg.target_unique?.length ? "upsert" : "create")],
});
