/**
 * Issue 24 item 1: credentials go only where they were entered for. The finding: a Slack connection was created with
 * a bot token, a PATCH that set only `config.base_url` to another host was accepted, and the connection test then
 * sent `Authorization: Bearer <bot token>` to that host. Now changing any URL field of a connection is refused with
 * 400 SECRETS_REQUIRED unless the same request carries every secret field again; creating a connection with a URL
 * and its secrets in one request stays allowed. The URL fields of every platform are read from the registry
 * (GET /v1/connections/platforms: each config schema's `format: uri` strings), so a new provider is covered too.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { sinkRequests, sinkReset } from "../support/engine";
import { CONFIGS } from "../integrations/support";

beforeEach(sinkReset);

let n = 0;
const org = () => `conn-secrets-${++n}-${Math.random().toString(36).slice(2, 8)}`;
const ATTACKER = "https://sink.test/attacker";

/** Valid configs of every platform with every secret set (the LLM platforms' too). */
const ALL_CONFIGS: Record<string, Record<string, unknown>> = {
  ...(CONFIGS as unknown as Record<string, Record<string, unknown>>),
  openai: { base_url: "http://sink.test/llm/chat/x", model: "fake-model", api_key: "sk-openai-secret-1" },
  anthropic: { base_url: "http://sink.test/anthropic/chat/x", model: "claude-fake", api_key: "sk-ant-secret-2" },
  ollama: { base_url: "http://sink.test/ollama/chat/x", model: "llama3.2", api_key: "ollama-secret-3" },
  mcp: { url: "http://sink.test/mcp-server/x", bearer_token: "mcp-bearer-secret-4" },
};

type JsonSchema = Record<string, any>;

/** Dotted paths of every `format: uri` string of a JSON Schema (through properties and unions). */
function uriPaths(schema: JsonSchema, prefix = ""): string[] {
  const out = new Set<string>();
  const walk = (s: JsonSchema | undefined, at: string) => {
    if (!s || typeof s !== "object") return;
    if (s.type === "string" && s.format === "uri" && at) out.add(at);
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) walk(v, at ? `${at}.${k}` : k);
    for (const key of ["anyOf", "oneOf", "allOf"]) for (const v of (s[key] ?? []) as JsonSchema[]) walk(v, at);
  };
  walk(schema, prefix);
  return [...out];
}

const getAt = (o: any, path: string) => path.split(".").reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), o);
function setAt(o: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const keys = path.split(".");
  let cur = o;
  for (const k of keys.slice(0, -1)) cur = cur[k] ??= {};
  cur[keys[keys.length - 1]] = value;
  return o;
}

async function platforms(): Promise<{ platform: string; secret_fields: string[]; config_schema: JsonSchema }[]> {
  const res = await call("GET", "/v1/connections/platforms");
  expect(res.status).toBe(200);
  return res.body.platforms;
}

describe("changing a connection's URL needs its secrets again (item 1)", () => {
  it("the reported attack: PATCH base_url alone is refused and the token never reaches the new host", async () => {
    const o = org();
    const created = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "slack", config: CONFIGS.slack },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;

    const patched = await call("PATCH", `/v1/connections/${id}`, { org: o, body: { config: { base_url: ATTACKER } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(400);
    expect(patched.body.error.code).toBe("SECRETS_REQUIRED");
    expect(patched.body.error.details).toEqual([expect.objectContaining({ path: "config.bot_token" })]);

    // Nothing changed: the stored URL is the old one, and a test goes to the vendor it was entered for.
    const got = await call("GET", `/v1/connections/${id}`, { org: o });
    expect(got.body.config.base_url).toBe(CONFIGS.slack.base_url);
    await call("POST", `/v1/connections/${id}/test`, { org: o });
    expect(await sinkRequests("/attacker")).toEqual([]);
  });

  it("the masked value is not the secret: PATCH with base_url and bot_token '********' is refused", async () => {
    const o = org();
    const created = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "slack", config: CONFIGS.slack },
    });
    const patched = await call("PATCH", `/v1/connections/${created.body.id}`, {
      org: o,
      body: { config: { base_url: ATTACKER, bot_token: "********" } },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.error.code).toBe("SECRETS_REQUIRED");
  });

  it("every platform: each URL field changed alone is refused, with every secret again it is accepted", async () => {
    const checked: string[] = [];
    for (const p of await platforms()) {
      const config = ALL_CONFIGS[p.platform];
      expect(config, `a test config for ${p.platform}`).toBeDefined();
      const urls = uriPaths(p.config_schema);
      expect(urls.length, `${p.platform} has URL fields`).toBeGreaterThan(0);
      const secrets = p.secret_fields.filter((f) => typeof getAt(config, f) === "string");
      expect(secrets.length, `${p.platform}'s test config sets a secret`).toBeGreaterThan(0);
      for (const field of urls) {
        const o = org();
        const created = await call("POST", "/v1/connections", { org: o, body: { platform: p.platform, name: "c", config } });
        expect(created.status, `${p.platform} create: ${JSON.stringify(created.body)}`).toBe(201);
        const id = created.body.id;
        const isSecret = secrets.includes(field);
        // A secret URL keeps its vendor's shape (a Discord webhook URL is checked as one); others go elsewhere.
        const newUrl = isSecret ? `${getAt(config, field)}x` : `${ATTACKER}/${p.platform}/${field.replace(/\./g, "-")}`;

        const alone = await call("PATCH", `/v1/connections/${id}`, { org: o, body: { config: setAt({}, field, newUrl) } });
        if (isSecret && secrets.length === 1) {
          // The URL is the only secret (a Discord or Teams webhook URL): sending it is sending every secret.
          expect(alone.status, `${p.platform}.${field}: ${JSON.stringify(alone.body)}`).toBe(200);
          continue;
        }
        expect(alone.status, `${p.platform}.${field}: ${JSON.stringify(alone.body)}`).toBe(400);
        expect(alone.body.error.code).toBe("SECRETS_REQUIRED");
        const named = alone.body.error.details.map((d: { path: string }) => d.path).sort();
        expect(named).toEqual(
          secrets
            .filter((s) => s !== field)
            .map((s) => `config.${s}`)
            .sort(),
        );

        const withSecrets = setAt({}, field, newUrl);
        for (const s of secrets) if (s !== field) setAt(withSecrets, s, getAt(config, s));
        const ok = await call("PATCH", `/v1/connections/${id}`, { org: o, body: { config: withSecrets } });
        expect(ok.status, `${p.platform}.${field} with secrets: ${JSON.stringify(ok.body)}`).toBe(200);
        checked.push(`${p.platform}.${field}`);
      }
    }
    expect(checked).toContain("slack.base_url");
    expect(checked).toContain("http.base_url");
    expect(checked).toContain("openai.base_url");
    expect(checked).toContain("discord.base_url");
    expect(checked).toContain("mcp.url");
    console.log(`connection URL fields checked: ${checked.length} (${checked.join(", ")})`);
  });

  it("creating a connection with a URL and its secrets in one request stays allowed; other fields patch freely", async () => {
    const o = org();
    const created = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "slack", config: { ...CONFIGS.slack, base_url: `${ATTACKER}/own-gateway` } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const renamed = await call("PATCH", `/v1/connections/${created.body.id}`, {
      org: o,
      body: { name: "renamed", config: { default_channel: "#ops" } },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    // The same URL again is not a change.
    const same = await call("PATCH", `/v1/connections/${created.body.id}`, {
      org: o,
      body: { config: { base_url: `${ATTACKER}/own-gateway` } },
    });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
  });

  it("removing the URL (back to the vendor's own API root) is a change too", async () => {
    const o = org();
    const created = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "slack", config: CONFIGS.slack },
    });
    const removed = await call("PATCH", `/v1/connections/${created.body.id}`, { org: o, body: { config: { base_url: null } } });
    expect(removed.status).toBe(400);
    expect(removed.body.error.code).toBe("SECRETS_REQUIRED");
  });
});

/**
 * The same holds for the platform's webhook targets (docs/platform.md): their auth secret (a bearer token, a basic
 * password, an API key, a signing secret) goes with every delivery to the target's `url`, so moving the URL needs
 * the secret in the same request.
 */
describe("changing a webhook target's URL needs its secret again (item 1)", () => {
  it("PATCH url alone is refused while a secret is stored; with the secret, or without a secret to send, it is accepted", async () => {
    const o = org();
    const created = await call("POST", "/v1/webhook-targets", {
      org: o,
      body: { name: "erp", url: "http://sink.test/erp", auth: { type: "bearer", token: "erp-bearer-secret-1" } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;

    const alone = await call("PATCH", `/v1/webhook-targets/${id}`, { org: o, body: { url: ATTACKER } });
    expect(alone.status, JSON.stringify(alone.body)).toBe(400);
    expect(alone.body.error.code).toBe("SECRETS_REQUIRED");
    expect(alone.body.error.details).toEqual([expect.objectContaining({ path: "auth.token" })]);
    const typeOnly = await call("PATCH", `/v1/webhook-targets/${id}`, {
      org: o,
      body: { url: ATTACKER, auth: { type: "bearer" } },
    });
    expect(typeOnly.status).toBe(400);
    expect((await call("GET", `/v1/webhook-targets/${id}`, { org: o })).body.url).toBe("http://sink.test/erp");

    const renamed = await call("PATCH", `/v1/webhook-targets/${id}`, { org: o, body: { name: "erp 2" } });
    expect(renamed.status).toBe(200);
    const moved = await call("PATCH", `/v1/webhook-targets/${id}`, {
      org: o,
      body: { url: `${ATTACKER}/own`, auth: { type: "bearer", token: "erp-bearer-secret-1" } },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    // Dropping the secret (auth none) leaves nothing to send: the URL may then move alone.
    const none = await call("PATCH", `/v1/webhook-targets/${id}`, {
      org: o,
      body: { url: `${ATTACKER}/open`, auth: { type: "none" } },
    });
    expect(none.status, JSON.stringify(none.body)).toBe(200);
    const free = await call("PATCH", `/v1/webhook-targets/${id}`, { org: o, body: { url: `${ATTACKER}/again` } });
    expect(free.status).toBe(200);
  });
});
