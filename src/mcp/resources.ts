import {
  ErrorCode,
  McpError,
  type ListResourcesResult,
  type ReadResourceResult,
  type ResourceTemplate,
} from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { getRun } from "../services/runs";
import { listExecutions } from "../store/executions";
import type { McpContext } from "./context";
import { executionUri } from "../services/flow-tools";

/**
 * Runs as MCP resources, scoped to the caller's organization: `resources/list` pages through its executions,
 * newest first, and `execution://{execution_id}` reads one as the normalized run (status, timestamps and each
 * action's request, response and error). Another organization's run is "not found", like an unknown id.
 */

/** MCP's code for a resource that does not exist (specification, server/resources). */
export const RESOURCE_NOT_FOUND = -32002;
const SCHEME = "execution://";
const ID = /^[A-Za-z0-9-]{1,100}$/;
const JSON_TYPE = "application/json";

export const EXECUTION_TEMPLATE: ResourceTemplate = {
  uriTemplate: `${SCHEME}{execution_id}`,
  name: "execution",
  title: "An execution (run) of a flow",
  description: "The run: status, timestamps, each action's request, response and error. Flow tools answer with this URI.",
  mimeType: JSON_TYPE,
};

export async function listRunResources(ctx: McpContext, cursor: string | undefined): Promise<ListResourcesResult> {
  const offset = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > 1_000_000)
    throw new McpError(ErrorCode.InvalidParams, "Invalid cursor");
  const limit = LIMITS.MCP_RUNS_PAGE_SIZE;
  const page = await listExecutions(ctx.env.DB, { orgId: ctx.principal.orgId, limit, offset });
  return {
    resources: page.results.map((r) => ({
      uri: executionUri(r.id),
      name: r.id,
      title: `${r.flow_name}: ${r.status}`,
      description: `Run of flow ${r.flow_id}, created ${r.created_at}, ${r.status}`,
      mimeType: JSON_TYPE,
    })),
    ...(offset + limit < page.total ? { nextCursor: String(offset + limit) } : {}),
  };
}

export async function readRunResource(ctx: McpContext, uri: string): Promise<ReadResourceResult> {
  const id = uri.startsWith(SCHEME) ? uri.slice(SCHEME.length) : "";
  const missing = () => new McpError(RESOURCE_NOT_FOUND, "Resource not found", { uri: uri.slice(0, 300) });
  if (!ID.test(id)) throw missing();
  try {
    const { run } = await getRun(ctx.env, ctx.principal.orgId, id);
    return { contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(run) }] };
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw missing();
    throw err;
  }
}
