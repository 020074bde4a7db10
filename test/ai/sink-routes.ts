/**
 * The AI steps' test servers behind the sink (test/support/sink.ts, a Worker of its own in each workerd):
 *   /ai/<openai|anthropic>/<script>/<tag>/…   the scripted model (scripted-model.ts)
 *   /mcp-server/<tag>                         an MCP server built with the official SDK's McpServer (mcp-server.ts)
 */

import { mcpServerAnswer } from "./mcp-server.ts";
import { scriptedModelAnswer } from "./scripted-model.ts";

export async function aiAnswer(req: Request, url: URL, body: string): Promise<Response | null> {
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] === "ai") return scriptedModelAnswer(req, parts, body);
  if (parts[0] === "mcp-server") return mcpServerAnswer(req, url, body);
  return null;
}
