import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/lib/errors";
import { keyIdOf, keyMaterial } from "../../src/lib/secrets";
import { openConnection, reencryptConnections } from "../../src/services/connections";
import { runIntegration } from "../../src/services/integrations";
import { getConnectionRow } from "../../src/store/connections";
import { call } from "../helpers";
import { createFlow, sinkRequests, sinkReset, startExec } from "../support/engine";
import { CONFIGS, callTool, connect, driveIn } from "./support";

beforeEach(sinkReset);

let n = 0;
const org = () => `enc-${++n}`;
const NEW_KEY = "bmV3LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY3ODlhYmM="; // 32 bytes, base64
const OTHER_KEY = "b3RoZXItZW5jcnlwdGlvbi1rZXktMDEyMzQ1Njc4OWE="; // 32 bytes, base64

const rawRow = (id: string) => env.DB.prepare(`SELECT * FROM connections WHERE id = ?`).bind(id).first<Record<string, string>>();

describe("credentials at rest", () => {
  it("the ciphertext in D1 is not the plaintext, names its key, and the public config is masked", async () => {
    const c = await connect("twilio", CONFIGS.twilio, org());
    const row = (await rawRow(c.id))!;
    expect(row.ciphertext).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(row.ciphertext).not.toContain("good-twilio-auth-token-7890");
    expect(atob(row.ciphertext.split(".")[3].replace(/-/g, "+").replace(/_/g, "/"))).not.toContain("good-twilio");
    expect(row.key_id).toBe(keyIdOf(keyMaterial(env.ENCRYPTION_KEY!)));
    expect(row.ciphertext.split(".")[1]).toBe(row.key_id);
    expect(JSON.parse(row.public_config)).toEqual({ ...CONFIGS.twilio, auth_token: "********" });
    expect(JSON.stringify(row)).not.toContain("good-twilio-auth-token-7890");
  });

  it("after a key rotation old ciphertexts still decrypt, are re-sealed on use, and the re-encrypt path re-seals the rest", async () => {
    const o = org();
    const a = await connect("slack", CONFIGS.slack, o);
    const b = await connect("hubspot", CONFIGS.hubspot, o);
    const oldKid = keyIdOf(keyMaterial(env.ENCRYPTION_KEY!));
    const rotated = { ...env, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS_PREVIOUS: env.ENCRYPTION_KEY };
    const newKid = keyIdOf(keyMaterial(NEW_KEY));

    // Use with the rotated keyring: decrypts with the previous key, then re-seals with the new one.
    expect(await openConnection(rotated, (await getConnectionRow(env.DB, o, a.id))!)).toMatchObject({
      bot_token: CONFIGS.slack.bot_token,
    });
    expect((await rawRow(a.id))!.key_id).toBe(newKid);
    expect((await rawRow(b.id))!.key_id).toBe(oldKid);

    const result = await reencryptConnections(rotated, o);
    expect(result).toEqual({ reencrypted: 1, failed: [], key_id: newKid });
    expect((await rawRow(b.id))!.key_id).toBe(newKid);
    expect(await reencryptConnections(rotated, o)).toEqual({ reencrypted: 0, failed: [], key_id: newKid });

    // Once the old key is dropped, everything still opens with the new key alone.
    const newOnly = { ...env, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS_PREVIOUS: "" };
    expect(await openConnection(newOnly, (await getConnectionRow(env.DB, o, b.id))!)).toMatchObject({
      access_token: CONFIGS.hubspot.access_token,
    });
    const out = await runIntegration(newOnly, {
      orgId: o,
      platform: "hubspot",
      action: "create_contact",
      params: { email: "r@example.com" },
    });
    expect(out.success).toBe(true);
  });

  it("a wrong key fails closed: no call is made, the connection turns error, nothing falls back to plaintext", async () => {
    const o = org();
    const c = await connect("slack", CONFIGS.slack, o);
    const wrong = { ...env, ENCRYPTION_KEY: OTHER_KEY, ENCRYPTION_KEYS_PREVIOUS: "" };
    const err = await runIntegration(wrong, { orgId: o, platform: "slack", action: "post_message", params: { text: "x" } }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 500, code: "CONNECTION_UNREADABLE" });
    expect(await sinkRequests("/slack/")).toHaveLength(0);
    const view = (await call("GET", `/v1/connections/${c.id}`, { org: o })).body;
    expect(view).toMatchObject({ status: "error", error_message: expect.stringContaining("unknown_key") });
    // The re-encrypt path reports it instead of touching it.
    expect((await reencryptConnections(wrong, o)).failed).toEqual([c.id]);
  });

  it("a ciphertext moved to another connection does not decrypt (bound to its owner)", async () => {
    const o = org();
    const a = await connect("slack", CONFIGS.slack, o, "a");
    const b = await connect("slack", { ...CONFIGS.slack, bot_token: "xoxb-good-other" }, o, "b");
    const blob = (await rawRow(a.id))!.ciphertext;
    await env.DB.prepare(`UPDATE connections SET ciphertext = ? WHERE id = ?`).bind(blob, b.id).run();
    const res = await callTool("slack_post_message", { text: "x", connection_id: b.id }, o);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("CONNECTION_UNREADABLE");
    expect(await sinkRequests("/slack/")).toHaveLength(0);
  });

  it("the re-encrypt endpoint (admin) re-seals the org's connections", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const res = await call("POST", "/v1/connections/reencrypt", { org: o });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reencrypted: 0, failed: [], key_id: keyIdOf(keyMaterial(env.ENCRYPTION_KEY!)) });
  });
});

describe("secrets never leave", () => {
  const logged: string[] = [];
  afterEach(() => vi.restoreAllMocks());

  it("no response, run history, audit row or log line carries a credential", async () => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    }
    const o = org();
    const secrets = [
      CONFIGS.slack.bot_token,
      CONFIGS.discord.webhook_url,
      "good-discord-token-abcd",
      CONFIGS.http.auth.token,
      "xoxb-bad-leak-9",
    ];
    const bodies: unknown[] = [];
    const keep = <T extends { body: any }>(r: T): T => (bodies.push(r.body), r);

    const slack = keep(
      await call("POST", "/v1/connections", {
        org: o,
        body: { platform: "slack", name: "s", config: CONFIGS.slack, test: true },
      }),
    ).body;
    const discord = keep(
      await call("POST", "/v1/connections", { org: o, body: { platform: "discord", name: "d", config: CONFIGS.discord } }),
    ).body;
    keep(
      await call("POST", "/v1/connections", {
        org: o,
        body: { platform: "http", name: "h", config: { ...CONFIGS.http, base_url: `${CONFIGS.http.base_url}` } },
      }),
    );
    keep(await call("GET", "/v1/connections", { org: o }));
    keep(await call("POST", `/v1/connections/${discord.id}/test`, { org: o }));
    keep(await callTool("discord_post_message", { content: "hello" }, o));
    keep(await callTool("http_request", { path: "/echo", body: { note: "x" } }, o));
    keep(
      await call("POST", "/v1/connections/test", {
        org: o,
        body: { platform: "slack", config: { ...CONFIGS.slack, bot_token: "xoxb-bad-leak-9" } },
      }),
    );
    keep(await call("GET", "/v1/tools?include_all=true", { org: o }));
    keep(await call("GET", "/v1/tools/audit", { org: o }));
    keep(await call("GET", "/v1/connections/platforms", { org: o }));
    keep(
      await call("POST", "/v1/automation/execute", {
        org: o,
        body: { automationType: "slack", nodeParams: { action: "post_message", params: { text: "exec" } } },
      }),
    );
    // A flow run: the run history keeps requests and responses, with credentials masked.
    const flow = await createFlow(
      {
        flow_name: "leak-check",
        actions: [
          {
            id: "d",
            type: "integration",
            config: { platform: "discord", action: "post_message", params: { content: "from flow" } },
          },
          {
            id: "s",
            type: "integration",
            config: { platform: "slack", action: "post_message", connection_id: slack.id, params: { text: "x" } },
          },
        ],
      },
      o,
    );
    const exec = await driveIn(await startExec(flow.id, "none", o), o);
    expect(exec.execution_status).toBe("success");
    bodies.push(exec);
    const run = keep(await call("GET", `/v1/automation/runs/${exec.id}`, { org: o })).body;
    expect(run.action_results[0].request.url).toContain("[redacted]");
    expect(run.action_results[1].request.headers.authorization).toBe("[redacted]");
    const audit = await env.DB.prepare(`SELECT * FROM tool_audit_log WHERE org_id = ?`).bind(o).all();
    expect(audit.results.length).toBeGreaterThanOrEqual(3);

    const everything = JSON.stringify([bodies, audit.results, logged]);
    for (const s of secrets) expect(everything, s).not.toContain(s);
  });
});
