import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { checkOutboundUrl, parseAllowedHosts } from "../../src/lib/ssrf";
import { startExecution } from "../../src/services/executions";
import { getFlow } from "../../src/store/flows";
import { ADMIN_KEY, BASE, call } from "../helpers";
import { createFlow, drive, executionStub, getExecution, sinkRequests } from "../support/engine";
import { REDIRECTS, TARGETS } from "./ssrf-targets";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 item 6: every target of the SSRF table is refused for outbound actions (call_webhook,
 * trigger-webhook, custom-action) and failure notifications (notify_url), when the flow is saved and when
 * the call is sent. Connection base_urls: ssrf-connections.test.ts. Figures are printed at the end.
 */

const ORG = "ssrf-org";
/** Send-time tests run in org-a, the org test/support/engine.ts drives executions in. */
const RUN_ORG = "org-a";
const ACTION_TYPES = ["call_webhook", "trigger-webhook", "custom-action"] as const;
const figures = { targets: TARGETS.length, redirects: REDIRECTS.length, refusedAtSave: 0, refusedAtSend: 0, notifyRefused: 0 };

afterAll(() => {
  console.log(`SSRF figures: ${JSON.stringify(figures)}`);
});

function flowBody(url: string, name: string) {
  return {
    flow_name: name,
    triggers: [{ type: "manual" }],
    actions: ACTION_TYPES.map((type, i) => ({ id: `a${i}`, type, config: { url } })),
    error_handling: { notify_on_failure: true, notify_url: url },
  };
}

/** Requests the sink saw that went anywhere but the allowlisted sink host. */
async function leaks(): Promise<string[]> {
  return (await sinkRequests()).map((r) => r.url).filter((u) => new URL(u).hostname !== "sink.test");
}

describe("the policy (lib/ssrf.ts) on the table", () => {
  it("has at least 60 targets, all distinct", () => {
    expect(TARGETS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(TARGETS.map((t) => t.url)).size).toBe(TARGETS.length);
  });

  it("refuses every target, and lets the allowlisted sink and public hosts through", () => {
    const allowed = parseAllowedHosts(env.ALLOWED_OUTBOUND_HOSTS);
    const passed = TARGETS.filter((t) => checkOutboundUrl(t.url, allowed, env.SELF_HOSTS).ok).map((t) => t.url);
    expect(passed).toEqual([]);
    for (const ok of [
      "http://sink.test/x",
      "https://hooks.example.com/a?b=c",
      "http://93.184.215.14/",
      "http://[2606:4700::1111]/",
    ]) {
      expect({ ok, result: checkOutboundUrl(ok, allowed, env.SELF_HOSTS).ok }).toEqual({ ok, result: true });
    }
  });

  it("lets ALLOWED_OUTBOUND_HOSTS name a refused host, and nothing else", () => {
    const allowed = parseAllowedHosts("sink.test, 10.1.2.3 ,localhost,[::1],engine.test");
    for (const url of ["http://10.1.2.3/", "http://localhost:8787/", "http://[::1]/", "https://engine.test/x"]) {
      expect({ url, ok: checkOutboundUrl(url, allowed, "engine.test").ok }).toEqual({ url, ok: true });
    }
    for (const url of ["http://10.1.2.4/", "http://127.0.0.1/", "http://a@10.1.2.3/", "gopher://10.1.2.3/"]) {
      expect({ url, ok: checkOutboundUrl(url, allowed, "engine.test").ok }).toEqual({ url, ok: false });
    }
  });
});

describe("save time: POST /v1/automation/flows", () => {
  it.each(TARGETS.map((t, i) => ({ ...t, i })))("refuses $why: $url", async ({ url, i, http }) => {
    const res = await call("POST", "/v1/automation/flows", { org: ORG, body: flowBody(url, `ssrf-save-${i}`) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "actions.0.config.url",
        "actions.1.config.url",
        "actions.2.config.url",
        "error_handling.notify_url",
      ]),
    );
    if (http !== false) {
      const codes = new Set(res.body.error.details.map((d: { code?: string }) => d.code));
      expect(codes).toEqual(new Set(["outbound_refused"]));
    }
    figures.refusedAtSave++;
  });

  it("stored nothing for the refused flows, and accepts the same flow aimed at the sink", async () => {
    expect((await call("GET", "/v1/automation/flows", { org: ORG })).body.total).toBe(0);
    const ok = await call("POST", "/v1/automation/flows", { org: ORG, body: flowBody("http://sink.test/ok", "ssrf-ok") });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    // Templated URLs are accepted at save time: they are checked when sent (below).
    const templated = await call("POST", "/v1/automation/flows", {
      org: ORG,
      body: flowBody("{{ trigger.target }}", "ssrf-templated"),
    });
    expect(templated.status, JSON.stringify(templated.body)).toBe(201);
  });

  it("refuses a PUT that points a stored flow at a refused host, and keeps the stored flow", async () => {
    const flow = await createFlow(flowBody("http://sink.test/put", "ssrf-put"), ORG);
    const put = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      org: ORG,
      body: flowBody("http://10.0.0.1/", "ssrf-put"),
    });
    expect(put.status).toBe(400);
    const got = await call("GET", `/v1/automation/flows/${flow.id}`, { org: ORG });
    expect(got.body.actions[0].config.url).toBe("http://sink.test/put");
  });

  it("accepts a refused host once ALLOWED_OUTBOUND_HOSTS names it", async () => {
    const app = createApp();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/automation/flows`, {
        method: "POST",
        headers: { "x-key": ADMIN_KEY, "x-org-id": ORG, "content-type": "application/json" },
        body: JSON.stringify(flowBody("http://10.1.2.3/hook", "ssrf-allowlisted")),
      }),
      { ...env, ALLOWED_OUTBOUND_HOSTS: "sink.test,10.1.2.3" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status, await res.clone().text()).toBe(201);
  });
});

/** Runs one execution of a flow whose actions call `{{ trigger.targets[i] }}`, one per target. */
async function runTemplated(type: (typeof ACTION_TYPES)[number], targets: string[]) {
  const created = await createFlow(
    {
      flow_name: `ssrf-send-${type}`,
      actions: targets.map((_, i) => ({
        id: `t${i}`,
        type,
        allow_failure: true,
        config: { url: `{{ trigger.targets[${i}] }}` },
      })),
    },
    RUN_ORG,
  );
  const flow = (await getFlow(env.DB, RUN_ORG, created.id))!;
  const { id } = await startExecution(env, { orgId: RUN_ORG, flow, triggerEvent: { type: "manual", targets }, entity: null });
  await drive(id);
  return getExecution(id, RUN_ORG);
}

describe("send time: the rendered URL is checked before any request, and each redirect hop again", () => {
  const all = [...TARGETS, ...REDIRECTS];

  it.each(ACTION_TYPES)("%s refuses every target and every redirect to a refused host", async (type) => {
    const exec = await runTemplated(
      type,
      all.map((t) => t.url),
    );
    const outcomes = exec.actions.map((a: any, i: number) => ({
      url: all[i].url,
      status: a.execution_status,
      code: a.error_output?.error_code,
      refused: /Refused outbound call/.test(a.error_output?.error_reason ?? ""),
    }));
    expect(outcomes).toEqual(all.map((t) => ({ url: t.url, status: "failed", code: "BAD_CONFIG", refused: true })));
    figures.refusedAtSend += outcomes.filter((o: { refused: boolean }) => o.refused).length;
    expect(await leaks()).toEqual([]);
  });

  it("followed the first hop of each redirect to the sink, and no further", async () => {
    const hops = (await sinkRequests("/redirect")).map((r) => r.url);
    for (const r of REDIRECTS) expect(hops).toContain(new URL(r.url).toString());
    expect(await leaks()).toEqual([]);
  });

  it("refuses every target as a failure notification's notify_url (the failure is logged, nothing is sent)", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const created = await createFlow(
        {
          flow_name: "ssrf-notify",
          actions: [{ id: "boom", type: "call_webhook", config: { url: "http://sink.test/status/400" } }],
          error_handling: { notify_on_failure: true, notify_url: "{{ trigger.target }}", disable_after_failures: 100 },
        },
        RUN_ORG,
      );
      const flow = (await getFlow(env.DB, RUN_ORG, created.id))!;
      for (let i = 0; i < all.length; i += 10) {
        await Promise.all(
          all.slice(i, i + 10).map(async (t) => {
            const { id } = await startExecution(env, {
              orgId: RUN_ORG,
              flow,
              triggerEvent: { type: "manual", target: t.url },
              entity: null,
            });
            expect((await drive(id)).execution_status).toBe("failed");
          }),
        );
      }
      const refusals = warn.mock.calls.filter(
        (c) => c[0] === "failure notification not delivered" && /Refused/.test(String(c[2])),
      );
      figures.notifyRefused = refusals.length;
      expect(refusals.length).toBe(all.length);
      expect(await leaks()).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  }, 60_000);

  it("calls a refused host once ALLOWED_OUTBOUND_HOSTS names it", async () => {
    const created = await createFlow(
      { flow_name: "ssrf-allowed-send", actions: [{ id: "a", type: "call_webhook", config: { url: "{{ trigger.target }}" } }] },
      RUN_ORG,
    );
    const flow = (await getFlow(env.DB, RUN_ORG, created.id))!;
    const id = crypto.randomUUID();
    await runInDurableObject(executionStub(id), (o: ExecutionObject) => {
      const self = o as unknown as { env: typeof env };
      self.env = { ...self.env, ALLOWED_OUTBOUND_HOSTS: "sink.test,10.1.2.3" };
    });
    const target = `http://10.1.2.3/allowed-${id}`;
    await startExecution(env, { orgId: RUN_ORG, flow, triggerEvent: { type: "manual", target }, entity: null, executionId: id });
    expect((await drive(id)).execution_status).toBe("success");
    expect((await sinkRequests(`/allowed-${id}`)).map((r) => r.url)).toEqual([target]);
  });
});
