import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { MappingAttribute, RelationAttribute } from "./actions/epilot";
import { SCHEMA_NAME_PATTERN } from "./records";

/**
 * Mapping configs (docs/platform.md): how records of a source schema map to target schemas, with the attribute
 * operations and relation attributes map-entity knows. map-entity and cart-checkout name one target of a config
 * with `mapping_config: {config_id, target_id, version?}`.
 */

const Name = z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH);
const Schema = z.string().regex(SCHEMA_NAME_PATTERN, "Schema names are 1-64 characters of a-z, 0-9, _ and -");
const Strings = z.array(z.string().min(1).max(500)).max(200);

const targetFields = {
  name: z.string().max(LIMITS.MAX_NAME_LENGTH).optional(),
  target_schema: Schema,
  target_unique: Strings.optional(),
  mapping_attributes: z.array(MappingAttribute).max(500).default([]),
  relation_attributes: z.array(RelationAttribute).max(200).default([]),
  linkback_relation_attribute: z.union([z.string().min(1).max(500), z.literal(false)]).optional(),
  linkback_relation_tags: Strings.optional(),
};

export const MappingTargetSchema = z
  .strictObject({
    id: z.string().min(1).max(200).optional().openapi({ description: "Assigned when missing; kept across updates" }),
    ...targetFields,
  })
  .openapi("MappingTarget");

/** A stored target: its id is always set. */
const MappingTargetView = z.object({ id: z.string(), ...targetFields }).openapi("MappingTargetView");

const Targets = z
  .array(MappingTargetSchema)
  .min(1)
  .max(LIMITS.MAX_MAPPING_TARGETS)
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((t, i) => {
      if (!t.id) return;
      if (seen.has(t.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: "duplicate target id" });
      seen.add(t.id);
    });
  });

export const MappingConfigSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source_schema: z.string(),
    targets: z.array(MappingTargetView),
    version: z.number().int().openapi({ description: "Counts changes of source_schema and targets" }),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("MappingConfig");

export const CreateMappingConfigRequest = z
  .strictObject({ name: Name, source_schema: Schema, targets: Targets })
  .openapi("CreateMappingConfigRequest");

export const UpdateMappingConfigRequest = z
  .strictObject({ name: Name.optional(), source_schema: Schema.optional(), targets: Targets.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "Nothing to update" })
  .openapi("UpdateMappingConfigRequest");

export type MappingTargetInput = z.output<typeof MappingTargetSchema>;
