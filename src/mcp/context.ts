import type { Env } from "../env";
import type { Principal } from "../lib/principal";

/** What one MCP request is served with: the bindings, the authenticated caller and the HTTP request id. */
export interface McpContext {
  env: Env;
  principal: Principal;
  requestId: string;
}
