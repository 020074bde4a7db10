import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkA11y,
  engineApi,
  expectCleanPage,
  expectNoOutsideRequests,
  isLocalUrl,
  launchBrowser,
  liveProcessesInGroup,
  newPage,
  pageReport,
  screenshot,
  startEngine,
  startSink,
  type Engine,
} from "./harness.ts";

/** The harness itself: the sink, the outside-request block, axe, screenshots, and the engine's lifecycle. */

describe("sink", () => {
  it("records requests, fails the next n on demand, answers /status/<code>, and forgets on reset", async () => {
    const sink = await startSink();
    try {
      const post = await fetch(`${sink.url}/hook/a?x=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-test": "yes" },
        body: JSON.stringify({ n: 1 }),
      });
      expect(post.status).toBe(200);
      expect(await post.json()).toMatchObject({ ok: true, path: "/hook/a?x=1", body: '{"n":1}' });

      sink.failNext(2, 503);
      sink.failNext(1);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${sink.url}/again`)).status);
      expect(statuses).toEqual([503, 503, 500, 200]);
      expect((await fetch(`${sink.url}/status/418`)).status).toBe(418);

      const seen = sink.requests();
      expect(seen.map((r) => [r.method, r.path, r.status])).toEqual([
        ["POST", "/hook/a?x=1", 200],
        ["GET", "/again", 503],
        ["GET", "/again", 503],
        ["GET", "/again", 500],
        ["GET", "/again", 200],
        ["GET", "/status/418", 418],
      ]);
      expect(seen[0].headers["x-test"]).toBe("yes");
      expect(seen[0].body).toBe('{"n":1}');

      sink.failNext(1, 502);
      sink.reset();
      expect(sink.requests()).toEqual([]);
      expect((await fetch(`${sink.url}/after-reset`)).status).toBe(200);
    } finally {
      await sink.close();
    }
  });
});

describe("sink: flaky endpoints and the parsed echo", () => {
  it("fails /flaky/<n>/<key> n times per key, then answers 200; echoes the JSON body as received", async () => {
    const sink = await startSink();
    try {
      const status = async (path: string) => (await fetch(`${sink.url}${path}`)).status;
      expect([await status("/flaky/1/a"), await status("/flaky/2/b"), await status("/flaky/1/a")]).toEqual([500, 500, 200]);
      expect([await status("/flaky/2/b"), await status("/flaky/2/b")]).toEqual([500, 200]);
      sink.reset();
      expect(await status("/flaky/1/a")).toBe(500);

      const echo = await fetch(`${sink.url}/list`, { method: "POST", body: JSON.stringify({ items: ["x", "y"] }) });
      expect(await echo.json()).toMatchObject({ received: { items: ["x", "y"] } });
      expect(await (await fetch(`${sink.url}/text`, { method: "POST", body: "not json" })).json()).toMatchObject({
        body: "not json",
        received: null,
      });
    } finally {
      await sink.close();
    }
  });
});

describe("isLocalUrl", () => {
  it.each([
    ["http://127.0.0.1:8787/docs", true],
    ["http://127.9.0.1/x", true],
    ["http://localhost:3000/", true],
    ["http://[::1]:3000/", true],
    ["data:image/png;base64,AAAA", true],
    ["about:blank", true],
    ["https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui.css", false],
    ["http://10.0.0.1/", false],
    ["wss://example.com/socket", false],
    ["http://localhost.example.com/", false],
  ])("%s → %s", (url, local) => {
    expect(isLocalUrl(url)).toBe(local);
  });
});

describe("engine and browser", () => {
  let engine: Engine;
  let browser: Browser;

  beforeAll(async () => {
    [engine, browser] = await Promise.all([startEngine(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
  });

  it("starts the engine on a free port with the dev admin key, and lets it call the sink", async () => {
    expect(new URL(engine.baseUrl).hostname).toBe("127.0.0.1");
    expect(new URL(engine.baseUrl).port).not.toBe("8787");
    const api = engineApi(engine, "org-harness");
    expect((await api("GET", "/v1/automation/flows")).status).not.toBe(401);
    expect((await engineApi({ ...engine, adminKey: "wrong" }, "org-harness")("GET", "/v1/automation/flows")).status).toBe(401);

    const created = await api("POST", "/v1/automation/flows", {
      flow_name: "harness self-test",
      triggers: [{ type: "manual" }],
      actions: [{ id: "a1", type: "call_webhook", config: { url: `${engine.sink.url}/hook/self`, body: { hello: "sink" } } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const flowId = (created.body as { id: string }).id;

    const ok = await api("POST", `/v1/automation/flows/${flowId}/trigger`, {});
    expect(ok.body).toMatchObject({ status: "completed", execution_status: "success" });
    expect(engine.sink.requests().map((r) => [r.method, r.path, JSON.parse(r.body)])).toEqual([
      ["POST", "/hook/self", { hello: "sink" }],
    ]);

    // A 4xx from the target is not retried: one failed attempt, and the run fails.
    engine.sink.reset();
    engine.sink.failNext(1, 400);
    const failed = await api("POST", `/v1/automation/flows/${flowId}/trigger`, {});
    expect(failed.body).toMatchObject({ status: "failed", execution_status: "failed" });
    expect(engine.sink.requests().map((r) => r.status)).toEqual([400]);
  });

  it("blocks and records every request a page makes off this machine, and lets loopback through", async () => {
    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/`);
    // A loopback image (the sink, another origin) loads; the CDN one is blocked.
    await page.setContent(
      `<!doctype html><img alt="" src="https://cdn.example.com/logo.png"><img alt="" src="${engine.sink.url}/from-page">`,
    );
    await page.evaluate(async () => {
      await fetch("http://198.51.100.7/api").catch(() => undefined);
    });

    expect(pageReport(page).outsideRequests).toEqual(["https://cdn.example.com/logo.png", "http://198.51.100.7/api"]);
    expect(() => expectNoOutsideRequests(page)).toThrow(/cdn\.example\.com\/logo\.png[\s\S]*198\.51\.100\.7/);
    expect(engine.sink.requests().some((r) => r.path === "/from-page")).toBe(true);
    // The blocked loads surface as console errors too; an uncaught exception is collected as well.
    await page.evaluate(() =>
      setTimeout(() => {
        throw new Error("boom from the page");
      }),
    );
    await expect.poll(() => pageReport(page).consoleErrors.join("\n")).toMatch(/uncaught: boom from the page/);
    await page.context().close();
  });

  it("records a load the page's own CSP refused (no request is made, the browser only logs it)", async () => {
    const page = await newPage(browser);
    await page.route(`${engine.baseUrl}/harness-csp-cdn`, (route) =>
      route.fulfill({
        headers: { "content-type": "text/html", "content-security-policy": "default-src 'self'" },
        body: `<!doctype html><html lang="en"><title>cdn</title><script src="https://cdn.example.com/lib.js"></script></html>`,
      }),
    );
    await page.goto(`${engine.baseUrl}/harness-csp-cdn`);
    await expect
      .poll(() => pageReport(page).outsideRequests)
      .toEqual(["https://cdn.example.com/lib.js (refused by the page's CSP)"]);
    expect(() => expectCleanPage(page)).toThrow(/cdn\.example\.com\/lib\.js/);
    await page.context().close();
  });

  it("checkA11y lists each violation readably and passes an accessible page; screenshot writes a PNG", async () => {
    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/`);
    await page.setContent(`<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
      <input type="text">
      <p style="color:#777;background:#888">low contrast</p></main></body></html>`);
    const error = await checkA11y(page, "harness bad page").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/accessibility violation\(s\) on "harness bad page"/);
    for (const rule of ["image-alt", "label", "color-contrast"]) expect(error?.message).toContain(`${rule}:`);

    // The same page with those rules disabled passes, as does a region excluded.
    await checkA11y(page, "harness bad page, rules off", { disableRules: ["image-alt", "label", "color-contrast"] });
    await checkA11y(page, "harness bad page, main excluded", { exclude: ["main"] });

    // A good page served with a strict Content-Security-Policy, like the console's and /docs': axe still runs.
    await page.route(`${engine.baseUrl}/harness-csp`, (route) =>
      route.fulfill({
        headers: { "content-type": "text/html", "content-security-policy": "default-src 'self'" },
        body: `<!doctype html><html lang="en"><head><title>good</title></head><body><main>
          <h1>Fine</h1><label>Name <input type="text"></label></main></body></html>`,
      }),
    );
    await page.goto(`${engine.baseUrl}/harness-csp`);
    await checkA11y(page, "harness good page");

    const path = await screenshot(page, "Harness good page");
    expect(path).toMatch(/test-artifacts\/screenshots\/harness-good-page\.png$/);
    const png = await readFile(path);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expectCleanPage(page);
    await page.context().close();
  });

  it("stop() ends the whole process tree and frees the port", async () => {
    expect(liveProcessesInGroup(engine.pgid).length).toBeGreaterThan(2);
    await engine.stop();
    expect(liveProcessesInGroup(engine.pgid)).toEqual([]);
    await expect(fetch(`${engine.baseUrl}/`)).rejects.toThrow();
    await expect(fetch(engine.sink.url)).rejects.toThrow();
  });
});
