import { expect } from "vitest";
import { apiKey, call } from "../helpers";
import { readSse, type SseEvent } from "../integrations/sse";
import { SELF } from "cloudflare:test";
import { BASE, ADMIN_KEY } from "../helpers";
import { SINK, sinkRequests } from "../support/engine";

export { SINK, sinkRequests };

let tags = 0;
/** A path tag unique to this call, so a test finds its own requests in the sink's log. */
export const uniqueTag = (): string =>
  `t${Date.now().toString(36)}${(tags++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** An `openai` connection whose endpoint is the fake LLM with `scenario`; returns it with its base path. */
export async function llmConnection(
  scenario: string,
  opts: { org?: string; platform?: "openai" | "anthropic" | "ollama"; config?: Record<string, unknown>; name?: string } = {},
): Promise<{ id: string; path: string; body: any }> {
  const platform = opts.platform ?? "openai";
  const tag = uniqueTag();
  const root = platform === "openai" ? "llm" : platform;
  const path = `/${root}/${scenario}/${tag}`;
  const config: Record<string, unknown> =
    platform === "openai"
      ? { base_url: `${SINK}${path}`, model: "fake-model", api_key: "sk-good-openai-key" }
      : platform === "anthropic"
        ? { base_url: `${SINK}${path}`, model: "claude-fake", api_key: "sk-ant-good-key" }
        : { base_url: `${SINK}${path}`, model: "llama3.2" };
  const res = await call("POST", "/v1/connections", {
    org: opts.org ?? "org-a",
    body: { platform, name: opts.name ?? `${platform} ${scenario}`, config: { ...config, ...opts.config } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, path, body: res.body };
}

/** A conversation in `org`; `autoApprove` names the tools the model may run without asking (all writes need a decision otherwise). */
export async function newConversation(org = "org-a", title?: string, autoApprove?: string[]): Promise<string> {
  const body = { ...(title === undefined ? {} : { title }), ...(autoApprove ? { auto_approve_tools: autoApprove } : {}) };
  const res = await call("POST", "/v1/conversations", { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Sends a message and reads the whole SSE answer. */
export async function streamMessage(
  conversationId: string,
  body: Record<string, unknown>,
  org = "org-a",
): Promise<{ status: number; events: (SseEvent & { json: any })[]; text: string }> {
  const res = await SELF.fetch(`${BASE}/v1/conversations/${conversationId}/messages:stream`, {
    method: "POST",
    headers: { "x-key": ADMIN_KEY, "x-org-id": org, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200 || !res.body) return { status: res.status, events: [], text: await res.text() };
  const events: (SseEvent & { json: any })[] = [];
  for await (const e of readSse(res.body)) events.push({ ...e, json: JSON.parse(e.data) });
  return { status: res.status, events, text: "" };
}

/** Keys with exactly these scopes in `org`. */
export const keyWith = (scopes: string[], org = "org-a") => apiKey(org, scopes);

/** The tool audit entries of the org written by the chat. */
export async function chatAudit(org = "org-a"): Promise<any[]> {
  const res = await call("GET", "/v1/tools/audit?size=100", { org });
  expect(res.status).toBe(200);
  return res.body.results.filter((r: any) => r.via === "conversations.chat");
}
