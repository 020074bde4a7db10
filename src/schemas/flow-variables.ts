import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/**
 * The input a manual trigger declares: named variables with a JSON type, the values a caller passes when it
 * runs the flow (templates read them as `{{ variables.<name> }}`). The MCP server turns the declaration into
 * the JSON Schema of the flow's tool and validates the call's arguments against it.
 */

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const VARIABLE_TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** Whether `value` is of the declared JSON type. */
export function matchesVariableType(type: VariableType, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isSafeInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}

const EnumValue = z.union([z.string().max(1000), z.number(), z.boolean()]);

export const FlowVariableSchema = z
  .strictObject({
    type: z.enum(VARIABLE_TYPES).default("string"),
    description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).optional(),
    required: z.boolean().optional().openapi({ description: "The caller must pass it (default false)" }),
    default: z.unknown().optional().openapi({ description: "Used when the caller leaves it out; must be of `type`" }),
    enum: z.array(EnumValue).min(1).max(100).optional().openapi({ description: "The only values allowed" }),
  })
  .superRefine((v, ctx) => {
    if (v.default !== undefined && !matchesVariableType(v.type, v.default))
      ctx.addIssue({ code: "custom", path: ["default"], message: `must be of type ${v.type}` });
    v.enum?.forEach((e, i) => {
      if (!matchesVariableType(v.type, e))
        ctx.addIssue({ code: "custom", path: ["enum", i], message: `must be of type ${v.type}` });
    });
    if (v.default !== undefined && v.enum && !v.enum.some((e) => e === v.default))
      ctx.addIssue({ code: "custom", path: ["default"], message: "must be one of enum" });
  })
  .openapi("FlowVariable");
export type FlowVariable = z.output<typeof FlowVariableSchema>;

export const FlowVariablesSchema = z
  .record(
    z.string().regex(VARIABLE_NAME, "a variable name is a letter or _ followed by up to 63 letters, digits or _"),
    FlowVariableSchema,
  )
  .refine((m) => Object.keys(m).length <= LIMITS.MAX_FLOW_VARIABLES, {
    message: `at most ${LIMITS.MAX_FLOW_VARIABLES} variables`,
  })
  .openapi("FlowVariables", {
    description: "The run's input, by variable name: `{{ variables.<name> }}` in templates; an MCP tool's arguments",
  });
export type FlowVariables = z.output<typeof FlowVariablesSchema>;
