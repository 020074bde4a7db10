import { Validator, type Schema } from "@cfworker/json-schema";
import { extractJson } from "./json";

/**
 * Structured answers of AI steps: the model is asked for one JSON object matching the step's `output_schema`,
 * its answer is parsed (bare, fenced or embedded JSON) and validated with @cfworker/json-schema (it compiles
 * nothing: workerd forbids `new Function`, which Ajv needs). An invalid answer goes back to the model with the
 * errors, a bounded number of times (the callers count).
 */

export type StructuredCheck = { ok: true; value: Record<string, unknown> } | { ok: false; errors: string[] };

/** The instruction appended to a step's system prompt when it has an output_schema. */
export function schemaInstruction(schema: Record<string, unknown>): string {
  return [
    "Answer with one JSON object and nothing else (no prose, no code fence) that matches this JSON Schema:",
    JSON.stringify(schema),
  ].join("\n");
}

const MAX_ERRORS = 10;

/** Parses and validates a model's answer against the schema; the errors say what to repair. */
export function checkStructured(text: string, schema: Record<string, unknown>): StructuredCheck {
  const json = extractJson(text);
  if (!json.ok) return { ok: false, errors: [json.error] };
  if (json.value === null || typeof json.value !== "object" || Array.isArray(json.value))
    return { ok: false, errors: ["The answer must be one JSON object"] };
  const result = new Validator(schema as Schema, "2020-12", false).validate(json.value);
  if (result.valid) return { ok: true, value: json.value as Record<string, unknown> };
  // The validator reports each failing keyword with the path into the answer; the leaves say the most.
  const errors = result.errors
    .filter((e) => !["properties", "items", "allOf", "anyOf", "oneOf", "$ref"].includes(e.keyword) || result.errors.length === 1)
    .map((e) => `${e.instanceLocation.replace(/^#/, "") || "/"}: ${e.error}`);
  return { ok: false, errors: [...new Set(errors.length ? errors : result.errors.map((e) => e.error))].slice(0, MAX_ERRORS) };
}

/** What the model is told when its answer was invalid. */
export function repairPrompt(errors: string[]): string {
  return [
    "Your answer did not match the required JSON Schema:",
    ...errors.map((e) => `- ${e}`),
    "Answer again with one corrected JSON object only.",
  ].join("\n");
}
