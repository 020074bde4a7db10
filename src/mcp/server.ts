import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import type { McpContext } from "./context";
import { EXECUTION_TEMPLATE, listRunResources, readRunResource } from "./resources";
import { callMcpTool, listMcpTools } from "./tools";

export const MCP_SERVER_INFO = { name: "automation-engine", version: "1.0.0" } as const;

const INSTRUCTIONS =
  "Tools: the tool catalog (provider actions as <platform>_<action>, core actions) and the organization's enabled " +
  "flows with a manual trigger (flow_<name>_<id>). A flow tool starts a run and answers with its execution_id at once; " +
  "read execution://{execution_id} for its status and results. Calling a tool needs the scope automations:trigger.";

/**
 * The server only validates JSON Schema for elicitation, which it never asks for. The SDK's default (Ajv)
 * compiles validators with `new Function`, which workerd forbids, and costs an instance per request: refuse instead.
 */
const noSchemaValidation: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "JSON Schema validation is not available" }),
};

/** One MCP server for one request (stateless: see docs/mcp.md), bound to the caller's organization and scopes. */
export function buildMcpServer(ctx: McpContext): Server {
  const server = new Server(MCP_SERVER_INFO, {
    capabilities: { tools: { listChanged: false }, resources: { listChanged: false } },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: noSchemaValidation,
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await listMcpTools(ctx) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) =>
    callMcpTool(ctx, req.params.name, (req.params.arguments ?? {}) as Record<string, unknown>),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async (req) => listRunResources(ctx, req.params?.cursor));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [EXECUTION_TEMPLATE] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => readRunResource(ctx, req.params.uri));
  return server;
}
