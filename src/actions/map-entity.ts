import { z } from "zod";
import type { Mapping, RelationAttributeSpec } from "../engine/mapping";
import { MappingConfigRef, MappingList, RelationList, mapToTarget, mappingTarget } from "./entity-mapping";
import { recordEffect } from "./records";
import { defineAction, permanentFailure, isResult } from "./types";

const MapEntityConfig = z
  .object({
    target_schema: z.string().min(1),
    target_unique: z.array(z.string()).optional(),
    mapping_config: MappingConfigRef.optional(),
    mapping_attributes: MappingList.default([]),
    relation_attributes: RelationList.default([]),
    linkback_relation_attribute: z.union([z.string(), z.literal(false)]).optional(),
    linkback_relation_tags: z.array(z.string()).optional(),
  })
  .passthrough();

/**
 * epilot's map-entity: builds a record of `target_schema` from the main entity (attribute operations and relation
 * attributes); with `target_unique` it updates the record whose unique attributes match instead of creating one;
 * links the result back on the main entity (`linkback_relation_attribute`, default `mapped_entities`). A
 * `mapping_config` adds its target's attributes, relations and settings before the action's own.
 */
export const mapEntityAction = defineAction({
  types: ["map-entity"],
  config: MapEntityConfig,
  async run(ctx, cfg) {
    const target = cfg.mapping_config ? await mappingTarget(ctx, cfg.mapping_config) : null;
    if (isResult(target)) return target;
    if (target && target.target_schema !== cfg.target_schema) {
      return permanentFailure(
        "MAPPING_ERROR",
        `Mapping target ${target.id} maps to ${target.target_schema}, the action to ${cfg.target_schema}`,
      );
    }
    return mapToTarget(ctx, {
      targetSchema: cfg.target_schema,
      mappings: [...(target?.mapping_attributes ?? []), ...(cfg.mapping_attributes as Mapping[])],
      relations: [...(target?.relation_attributes ?? []), ...(cfg.relation_attributes as RelationAttributeSpec[])],
      targetUnique: cfg.target_unique ?? target?.target_unique,
      linkback: cfg.linkback_relation_attribute ?? target?.linkback_relation_attribute ?? "mapped_entities",
      linkbackTags: cfg.linkback_relation_tags ?? target?.linkback_relation_tags,
    });
  },
  // A `mapping_config` may set target_unique too: an upsert either way, as far as a preview can tell.
  effects: (ctx, cfg) => [
    recordEffect(ctx, cfg.target_schema, cfg.target_unique?.length || cfg.mapping_config ? "upsert" : "create"),
  ],
});
