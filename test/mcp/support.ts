import { SELF } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ADMIN_KEY, BASE, call } from "../helpers";

/** The SDK's own client, speaking Streamable HTTP to the Worker (SELF.fetch) with the given credentials. */
export async function mcpClient(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "engine-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
    requestInit: { headers },
    fetch: (url, init) => SELF.fetch(url, init),
  });
  await client.connect(transport);
  return client;
}

export const adminHeaders = (org: string) => ({ "x-key": ADMIN_KEY, "x-org-id": org });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The org's tool audit, newest first (GET /v1/tools/audit with the admin key). */
export async function auditOf(org: string): Promise<any[]> {
  const res = await call("GET", "/v1/tools/audit", { org });
  if (res.status !== 200) throw new Error(`audit: ${res.status}`);
  return res.body.results;
}

/** A raw POST /mcp (no client), for what the client cannot send: no credentials, malformed bodies. */
export async function rawPost(body: string, headers: Record<string, string>) {
  const res = await SELF.fetch(`${BASE}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body,
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, headers: res.headers };
}
