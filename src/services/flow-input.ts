import { matchesVariableType, type FlowVariable, type FlowVariables } from "../schemas/flow-variables";

/**
 * A flow tool's input: the JSON Schema (2020-12) of the variables its manual trigger declares, and the check of
 * a call's arguments against the same declaration (unknown names refused, required ones present, types and
 * enums kept, defaults filled in). One declaration drives both, so what `tools/list` shows is what is enforced.
 */

export type JsonSchemaObject = Record<string, unknown>;

function propertySchema(v: FlowVariable): JsonSchemaObject {
  const s: JsonSchemaObject = { type: v.type };
  if (v.description !== undefined) s.description = v.description;
  if (v.enum !== undefined) s.enum = v.enum;
  if (v.default !== undefined) s.default = v.default;
  return s;
}

export function variablesJsonSchema(vars: FlowVariables): JsonSchemaObject {
  const entries = Object.entries(vars);
  const required = entries.filter(([, v]) => v.required).map(([k]) => k);
  return {
    type: "object",
    properties: Object.fromEntries(entries.map(([k, v]) => [k, propertySchema(v)])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

export interface ArgumentIssue {
  path: string;
  message: string;
}

const typeName = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

/** The variables to start the run with, or the issues that refuse the call (each naming its argument). */
export function checkArguments(
  vars: FlowVariables,
  args: Record<string, unknown>,
): { ok: true; variables: Record<string, unknown> } | { ok: false; issues: ArgumentIssue[] } {
  const issues: ArgumentIssue[] = [];
  const variables: Record<string, unknown> = {};
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(vars, key)) issues.push({ path: key, message: "is not a variable of this flow" });
  }
  for (const [key, v] of Object.entries(vars)) {
    const value = args[key];
    if (value === undefined) {
      if (v.default !== undefined) variables[key] = structuredClone(v.default);
      else if (v.required) issues.push({ path: key, message: "is required" });
      continue;
    }
    if (!matchesVariableType(v.type, value)) {
      issues.push({ path: key, message: `must be of type ${v.type}, got ${typeName(value)}` });
    } else if (v.enum && !v.enum.some((e) => e === value)) {
      issues.push({ path: key, message: `must be one of ${v.enum.map((e) => JSON.stringify(e)).join(", ")}` });
    } else variables[key] = value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, variables };
}
