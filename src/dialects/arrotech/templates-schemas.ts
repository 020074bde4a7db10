import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { TEMPLATE_CATEGORIES, TEMPLATE_DIFFICULTIES } from "./templates";
import { StepSchema, WorkflowSchema, WorkflowStatusSchema } from "./workflows-schemas";

/** Arrotech's template catalog: request and response shapes (`{success, data, message}` as the document has them). */

const Json = z.record(z.string().max(500), z.unknown());
const CATEGORY_IDS = Object.keys(TEMPLATE_CATEGORIES) as [
  keyof typeof TEMPLATE_CATEGORIES,
  ...(keyof typeof TEMPLATE_CATEGORIES)[],
];
const envelope = <T extends z.ZodType>(data: T, name: string) =>
  z.object({ success: z.literal(true), data, message: z.string() }).openapi(name);

export const TemplateListQuery = z.object({
  category: z.enum(CATEGORY_IDS).optional(),
  difficulty: z.enum(TEMPLATE_DIFFICULTIES).optional(),
  search: z.string().min(1).max(200).optional().openapi({ description: "Words in the name, description or tags" }),
  connection: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Only templates that need a connection of this platform (slack, hubspot, …)" }),
});

const TemplateVariableSchema = z.object({
  name: z.string(),
  type: z.enum(["string", "number", "boolean"]),
  description: z.string(),
  required: z.boolean(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

export const TemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.enum(CATEGORY_IDS),
    difficulty: z.enum(TEMPLATE_DIFFICULTIES),
    tags: z.array(z.string()),
    required_connections: z.array(z.string()).openapi({ description: "Platforms whose connections the steps use" }),
    trigger_type: z.string(),
    trigger_config: Json,
    steps: z.array(StepSchema),
    variables: z.array(TemplateVariableSchema).openapi({
      description: "Setup variables: put in where the template says `{{ variables.<name> }}` when it is used",
    }),
    flow: Json.openapi({ description: "The flow document the template creates (with the variables' defaults)" }),
  })
  .openapi("ArrotechWorkflowTemplate");

export const TemplateListSchema = envelope(z.array(TemplateSchema), "ArrotechTemplateList");
export const TemplateOneSchema = envelope(TemplateSchema, "ArrotechTemplateOne");
export const CategoryListSchema = envelope(
  z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), template_count: z.number().int() })),
  "ArrotechTemplateCategories",
);

export const UseTemplateSchema = z
  .strictObject({
    name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).optional().openapi({ description: "Default: the template's name" }),
    status: WorkflowStatusSchema.optional().openapi({
      description: "Default active; always draft when a connection is missing",
    }),
    variables: Json.optional().openapi({ description: "Values of the template's setup variables, by name" }),
    connections: z
      .record(z.string().max(100), z.string().min(1).max(200))
      .optional()
      .openapi({ description: "platform → connection id to bind (default: the oldest active connection of the platform)" }),
  })
  .openapi("ArrotechUseTemplate");

export const UseTemplateResultSchema = envelope(
  z.object({
    workflow: WorkflowSchema,
    connections: z.record(z.string(), z.string()).openapi({ description: "platform → the connection bound" }),
    missing_connections: z.array(z.string()).openapi({ description: "Platforms the organization has no usable connection of" }),
  }),
  "ArrotechUseTemplateResult",
);
