import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkA11y,
  engineApi,
  expectCleanPage,
  launchBrowser,
  newPage,
  screenshot,
  startEngine,
  type Engine,
} from "./harness.ts";

/**
 * Issue 26: the flow page of a flow with flow control shows its queue (GET /flows/{id}/queue): running and
 * waiting starts per key, and refreshes itself while anything waits. In Chromium against `npm run dev`.
 */

const ORG = "org-queue";
let engine: Engine;
let browser: Browser;
let api: ReturnType<typeof engineApi>;

beforeAll(async () => {
  [engine, browser] = await Promise.all([startEngine(), launchBrowser()]);
  api = engineApi(engine, ORG);
});
afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe("the flow page's queue", () => {
  it("shows running and waiting starts per key of a flow with a concurrency bound per key", async () => {
    const flow = await api("POST", "/v1/automation/flows", {
      flow_name: "Queued work",
      triggers: [{ type: "manual" }],
      // Each run waits an hour: the ones beyond the bound stay in line while the page is looked at.
      actions: [{ id: "hold", name: "Hold", type: "delay", config: { duration: 3600, unit: "seconds" } }],
      flow_control: { concurrency: [{ limit: 1, key: "{{ trigger_event.entity_id }}" }] },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const id = (flow.body as { id: string }).id;
    for (const entity of ["alpha", "alpha", "alpha", "beta"]) {
      const res = await api("POST", "/v1/automation/executions", { flow_id: id, entity_id: entity });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/console#/signin`);
    await page.getByLabel("API key").fill(engine.adminKey);
    await page.getByLabel(/Organization id/).fill(ORG);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Flows" }).waitFor();
    await page.goto(`${engine.baseUrl}/console#/flows/${encodeURIComponent(id)}`);
    await page.getByRole("heading", { level: 2, name: "Queue" }).waitFor();
    await page.getByTestId("queue-keys").waitFor();
    expect(await page.getByTestId("queue-running").textContent()).toBe("2");
    expect(await page.getByTestId("queue-waiting").textContent()).toBe("2");
    const rows = page.getByTestId("queue-keys").locator("tbody tr");
    const cells = async (i: number) => (await rows.nth(i).locator("th, td").allTextContents()).map((t) => t.trim());
    expect(await rows.count()).toBe(2);
    expect((await cells(0)).slice(0, 4)).toEqual(["Concurrency", "alpha", "1", "2"]);
    expect((await cells(0))[4]).toMatch(/\d/);
    expect(await cells(1)).toEqual(["Concurrency", "beta", "1", "0", "—"]);
    await checkA11y(page, "console-flow-queue");
    await screenshot(page, "console-flow-queue");
    expectCleanPage(page);
    await page.close();
  });
});
