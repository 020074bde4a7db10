import { z } from "@hono/zod-openapi";
import { AI_ACTIONS } from "./ai";
import { ENGINE_ACTIONS } from "./engine";
import { EPILOT_ACTIONS } from "./epilot";

export * from "./ai";
export * from "./engine";
export * from "./epilot";

const ACTION_SCHEMAS = [...EPILOT_ACTIONS, ...ENGINE_ACTIONS, ...AI_ACTIONS] as const;

export const ACTION_TYPES = ACTION_SCHEMAS.map((s) => s.shape.type.value);

/** Action types whose config may hold an outbound signing `secret` (stored encrypted, never returned). */
export const SECRET_ACTION_TYPES: ReadonlySet<string> = new Set(["trigger-webhook", "call_webhook"]);

const describe = (v: unknown): string =>
  typeof v === "string" ? JSON.stringify(v.slice(0, 100)) : v === undefined ? "missing" : typeof v;

export const FlowActionSchema = z
  .discriminatedUnion("type", ACTION_SCHEMAS, {
    error: (iss) =>
      iss.code === "invalid_union"
        ? `Unknown action type (${describe((iss.input as { type?: unknown } | undefined)?.type)}); known types: ${ACTION_TYPES.join(", ")}`
        : undefined,
  })
  .openapi("FlowAction");
/** An action as stored and returned: its id is always set. */
export type FlowAction = z.output<typeof FlowActionSchema> & { id: string };
