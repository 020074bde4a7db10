import { runDurableObjectAlarm } from "cloudflare:test";
import { SignJWT } from "jose";
import { expect } from "vitest";
import { call } from "../helpers";
import { SINK, executionStub, setClock, sinkRequests } from "../support/engine";
import type { SinkRequest } from "../support/sink";

export { SINK };

export const SID = "AC0123456789abcdef0123456789abcdef";

/** Configs pointing each vendor at the sink (base_url), with credentials that the sink's vendors accept. */
export const CONFIGS = {
  slack: { bot_token: "xoxb-good-slack-token-1234", default_channel: "#general", base_url: `${SINK}/slack` },
  hubspot: { access_token: "pat-good-hubspot-token-5678", base_url: `${SINK}/hubspot` },
  google_calendar: { access_token: "ya29.good-google-token-9012", calendar_id: "team@acme.test", base_url: `${SINK}/gcal` },
  resend: { api_key: "re_good_resend_key_3456", from: "Acme <noreply@acme.test>", base_url: `${SINK}/resend` },
  twilio: { account_sid: SID, auth_token: "good-twilio-auth-token-7890", from: "+15550001111", base_url: `${SINK}/twilio` },
  discord: { webhook_url: "https://discord.com/api/webhooks/1234567/good-discord-token-abcd", base_url: `${SINK}/discord` },
  teams: {
    webhook_url: "https://acme.webhook.office.com/webhookb2/good-teams-path-efgh",
    format: "message_card",
    base_url: `${SINK}/teams`,
  },
  http: { base_url: `${SINK}/httpapi`, auth: { type: "bearer", token: "good-http-bearer-token-ijkl" } },
} as const;

/** Creates a connection through the API and returns it (masked). */
export async function connect(
  platform: string,
  config: Record<string, unknown>,
  org = "org-a",
  name = `${platform} conn`,
): Promise<any> {
  const res = await call("POST", "/v1/connections", { org, body: { platform, name, config } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function callTool(name: string, args: Record<string, unknown>, org = "org-a") {
  return call("POST", "/v1/tools/call", { org, body: { name, arguments: args } });
}

/** The one request the sink received under `prefix` (asserts there was exactly one). */
export async function onlyRequest(prefix: string): Promise<SinkRequest & { json: any }> {
  const all = await sinkRequests(prefix);
  expect(all.length, `requests under ${prefix}`).toBe(1);
  let parsed: unknown;
  try {
    parsed = all[0].body ? JSON.parse(all[0].body) : null;
  } catch {
    parsed = all[0].body;
  }
  return { ...all[0], json: parsed };
}

const JWT_KEY = new TextEncoder().encode("test-jwt-secret-0123456789abcdef0123456789");

export async function jwtFor(
  sub: string,
  org = "org-a",
  scope = "automations:read automations:write automations:trigger",
  email?: string,
) {
  return new SignJWT({ org_id: org, scope, ...(email ? { email } : {}) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(JWT_KEY);
}

const SETTLED = new Set(["success", "failed", "cancelled", "skipped", "hot", "paused"]);

/** test/support/engine's drive() for an execution of any org: fires its alarm until nothing is due at `now`. */
export async function driveIn(id: string, org: string, now?: number): Promise<any> {
  const stub = executionStub(id);
  if (now !== undefined) await setClock(id, now);
  const clock = now ?? Date.now();
  for (let i = 0; i < 200; i++) {
    await runDurableObjectAlarm(stub);
    const snap = (await stub.snapshot()) as unknown as { state: { status: string } } | null;
    if (!snap || SETTLED.has(snap.state.status)) break;
    const next = await stub.nextWakeAt();
    if (next === null || next > clock) break;
  }
  const res = await call("GET", `/v1/automation/executions/${id}`, { org });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
