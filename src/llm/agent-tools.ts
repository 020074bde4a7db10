import { dynamicTool, jsonSchema, type JSONSchema7, type ToolSet } from "ai";
import type { Env } from "../env";
import { listTools, type ToolDescriptor } from "../services/tools";

/**
 * The tools of an ai_agent step: the names it lists (or its agent's), looked up in the catalog as GET /v1/tools
 * lists it (provider tools whose platform has a connection, core tools, MCP tools), given to the model without
 * `execute` (the loop runs them, one step each), with their read/write mark for approvals.
 */

export interface AgentToolset {
  tools: ToolSet;
  byName: Map<string, ToolDescriptor>;
}

export type ToolsetResult = { ok: true; toolset: AgentToolset } | { ok: false; missing: string[] };

export async function agentToolset(env: Env, orgId: string, names: readonly string[]): Promise<ToolsetResult> {
  if (names.length === 0) return { ok: true, toolset: { tools: {}, byName: new Map() } };
  const catalog = new Map((await listTools(env, orgId, false)).filter((t) => t.available).map((t) => [t.name, t]));
  const missing = names.filter((n) => !catalog.has(n));
  if (missing.length > 0) return { ok: false, missing };
  const tools: ToolSet = {};
  const byName = new Map<string, ToolDescriptor>();
  for (const name of new Set(names)) {
    const t = catalog.get(name)!;
    byName.set(name, t);
    tools[name] = dynamicTool({
      description: `${t.title}. ${t.description}`.slice(0, 1000),
      inputSchema: jsonSchema(t.inputSchema as JSONSchema7),
    });
  }
  return { ok: true, toolset: { tools, byName } };
}
