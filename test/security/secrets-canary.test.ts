import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { decryptSecret } from "../../src/lib/secrets";
import { flowSecretAad } from "../../src/store/flow-secrets";
import { call, type CallOptions } from "../helpers";
import { SINK, executionStub, sinkRequests } from "../support/engine";
import { standardHeaders } from "../webhooks/support";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 item 8: a canary secret never appears in plaintext in any API response, log line, D1 column or
 * execution object storage. Flow secrets (webhook signing secrets, outbound signing secrets) never leave
 * the engine at all; a connection credential leaves only towards its own provider.
 */

const CANARY = `canary-${crypto.randomUUID()}`;
const CONN_CANARY = `conncanary-${crypto.randomUUID()}`;
const ORG = "canary-org";
const responses: string[] = [];
const logs: string[] = [];
const executions: string[] = [];
const spies: MockInstance[] = [];
const figures = { responses: 0, logLines: 0, d1Tables: 0, d1Rows: 0, objectRows: 0, hits: 0 };

beforeAll(() => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    spies.push(
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logs.push(
          args
            .map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === "string" ? a : JSON.stringify(a)))
            .join(" "),
        );
      }),
    );
  }
});
afterAll(() => {
  for (const s of spies) s.mockRestore();
  console.log(`canary figures: ${JSON.stringify(figures)}`);
});

/** Fires the execution's alarm until it settles (support/engine.ts `drive` reads the result in org-a). */
async function settle(id: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await runDurableObjectAlarm(executionStub(id));
    const snap = (await executionStub(id).snapshot()) as { state: { status: string } } | null;
    if (!snap || ["success", "failed", "cancelled", "skipped", "hot", "paused"].includes(snap.state.status)) return;
  }
}

/** Calls the API and keeps everything it answered (status, headers, body) for the scan. */
async function api(method: string, path: string, opts: CallOptions = {}) {
  const res = await call(method, path, { org: ORG, ...opts });
  responses.push(`${method} ${path} ${res.status} ${JSON.stringify([...res.headers])} ${JSON.stringify(res.body)}`);
  return res;
}

const flowBody = (hookSecret: string | undefined, actionSecret: string | undefined) => ({
  flow_name: "canary flow",
  triggers: [
    { id: "hook", type: "webhook", configuration: { path: "canary", ...(hookSecret ? { secret: hookSecret } : {}) } },
    { id: "manual", type: "manual" },
  ],
  actions: [
    { id: "send", type: "call_webhook", config: { url: `${SINK}/canary`, ...(actionSecret ? { secret: actionSecret } : {}) } },
    { id: "fail", type: "call_webhook", config: { url: `${SINK}/status/400` } },
  ],
  // Renders to nothing: the failure notification is refused and logged (a log line for the scan).
  error_handling: { notify_on_failure: true, notify_url: "{{ trigger.notify_target }}" },
});

describe("a canary secret stays secret", () => {
  let flowId = "";

  it("goes through every flow route: create, read, list, batch get, update, rotate, invalid input", async () => {
    const created = await api("POST", "/v1/automation/flows", { body: flowBody(`${CANARY}-hook`, `${CANARY}-action`) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    flowId = created.body.id;
    expect(created.body.triggers[0].configuration.secret_configured).toBe(true);
    expect((await api("GET", `/v1/automation/flows/${flowId}`)).status).toBe(200);
    expect((await api("GET", "/v1/automation/flows")).status).toBe(200);
    expect((await api("POST", "/v1/automation/flows:batchGet", { body: { ids: [flowId] } })).status).toBe(200);
    expect((await api("PUT", `/v1/automation/flows/${flowId}`, { body: flowBody(undefined, undefined) })).status).toBe(200);
    expect((await api("PUT", `/v1/automation/flows/${flowId}`, { body: flowBody(`${CANARY}-hook2`, undefined) })).status).toBe(
      200,
    );
    const invalid = await api("POST", "/v1/automation/flows", {
      body: { ...flowBody(`${CANARY}-bad`, `${CANARY}-bad`), flow_name: "" },
    });
    expect(invalid.status).toBe(400);
    const tooShort = await api("POST", "/v1/automation/flows", { body: flowBody(CANARY.slice(0, 10), undefined) });
    expect(tooShort.status).toBe(400);
  });

  it("goes through runs: webhook delivery, API start, execution and run views, manual trigger, dry run", async () => {
    const body = JSON.stringify({ hello: "canary" });
    const hook = await api("POST", `/v1/webhooks/${flowId}/canary`, {
      token: null,
      rawBody: body,
      headers: { "content-type": "application/json", ...(await standardHeaders(`${CANARY}-hook2`, body)) },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(202);
    const badSig = await api("POST", `/v1/webhooks/${flowId}/canary`, {
      token: null,
      rawBody: body,
      headers: { "content-type": "application/json", ...(await standardHeaders(`${CANARY}-wrong`, body)) },
    });
    expect(badSig.status).toBe(401);

    const started = await api("POST", "/v1/automation/executions", { body: { flow_id: flowId, entity_id: "e1" } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    executions.push(started.body.id);
    await settle(started.body.id);
    for (const path of [
      `/v1/automation/executions/${started.body.id}`,
      `/v1/automation/executions?flow_id=${flowId}`,
      `/v1/automation/flows/${flowId}/runs`,
      `/v1/automation/runs/${started.body.id}`,
    ]) {
      const res = await api("GET", path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
    const exec = (await api("GET", `/v1/automation/executions/${started.body.id}`)).body;
    expect(exec.actions[0].execution_status).toBe("success");
    // The receiver got a signature made with the secret, never the secret.
    const sent = (await sinkRequests("/canary")).find((r) => r.headers["idempotency-key"] === `${started.body.id}:send`);
    expect(sent?.headers["webhook-signature"]).toMatch(/^v1,/);

    for (const [path, b] of [
      [`/v1/automation/flows/${flowId}/trigger`, { test_data: { a: 1 } }],
      [`/v1/automation/flows/${flowId}/test`, { test_data: { a: 1 } }],
    ] as const) {
      const res = await api("POST", path, { body: b });
      expect({ path, status: res.status < 500 }).toEqual({ path, status: true });
      const id = res.body?.run_id ?? res.body?.id;
      if (typeof id === "string") executions.push(id);
    }
  });

  it("goes through connections, when the connections API is mounted", async (ctx) => {
    if ((await api("GET", "/v1/connections")).status !== 200) return ctx.skip();
    const created = await api("POST", "/v1/connections", {
      body: {
        platform: "http",
        name: "canary",
        config: { base_url: `${SINK}/conn-canary`, auth: { type: "bearer", token: CONN_CANARY } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect((await api("GET", `/v1/connections/${id}`)).status).toBe(200);
    expect((await api("GET", "/v1/connections")).status).toBe(200);
    expect((await api("POST", `/v1/connections/${id}/test`)).status).toBe(200);
    const invalid = await api("POST", "/v1/connections", {
      body: {
        platform: "http",
        name: "bad",
        config: { base_url: "http://10.0.0.1/", auth: { type: "bearer", token: CONN_CANARY } },
      },
    });
    expect(invalid.status).toBe(400);
    // The credential went to its own provider, and only there.
    const toProvider = await sinkRequests("/conn-canary");
    expect(toProvider.some((r) => r.headers.authorization === `Bearer ${CONN_CANARY}`)).toBe(true);
  });

  it("appears in no API response, no log line, no D1 column and no execution storage", async () => {
    // The secrets are stored, encrypted: a plaintext copy anywhere would be found by the scan.
    const stored = await env.DB.prepare(`SELECT trigger_id, ciphertext FROM flow_secrets WHERE org_id = ? AND flow_id = ?`)
      .bind(ORG, flowId)
      .all<{ trigger_id: string; ciphertext: string }>();
    const opened = await Promise.all(
      stored.results.map((r) => decryptSecret(env, r.ciphertext, flowSecretAad(ORG, flowId, r.trigger_id))),
    );
    expect(opened.sort()).toEqual([`${CANARY}-action`, `${CANARY}-hook2`]);

    const needles = [CANARY, CONN_CANARY];
    const found = (where: string, text: string) => needles.filter((n) => text.includes(n)).map((n) => `${where}: ${n}`);
    const hits: string[] = [];
    responses.forEach((r, i) => hits.push(...found(`response ${i} ${r.slice(0, 80)}`, r)));
    logs.forEach((l, i) => hits.push(...found(`log ${i}`, l)));

    const tables = await env.DB.prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`,
    ).all<{ name: string }>();
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      figures.d1Tables++;
      figures.d1Rows += rows.results.length;
      hits.push(...found(`D1 ${name}`, JSON.stringify(rows.results)));
    }
    for (const id of executions) {
      const dump = await runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) => {
        const names = state.storage.sql
          .exec<{ name: string }>(
            `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'`,
          )
          .toArray();
        return names.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray());
      });
      figures.objectRows += dump.reduce((n, rows) => n + rows.length, 0);
      hits.push(...found(`execution ${id}`, JSON.stringify(dump)));
    }
    // Flow secrets never leave the engine (receivers get signatures); a connection's credential goes to its provider only.
    for (const r of await sinkRequests()) {
      if (JSON.stringify(r).includes(CANARY)) hits.push(`outbound ${r.url}`);
      if (JSON.stringify(r).includes(CONN_CANARY) && !r.path.startsWith("/conn-canary")) hits.push(`outbound ${r.url}`);
    }
    figures.responses = responses.length;
    figures.logLines = logs.length;
    figures.hits = hits.length;
    expect(hits).toEqual([]);
    expect(responses.length).toBeGreaterThanOrEqual(15);
    expect(figures.d1Tables).toBeGreaterThanOrEqual(10);
    expect(figures.objectRows).toBeGreaterThan(0);
  });
});
