import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkA11y,
  expectCleanPage,
  expectNoOutsideRequests,
  launchBrowser,
  newPage,
  screenshot,
  startEngine,
  type Engine,
} from "./harness.ts";

/** /docs works without internet access: Swagger UI and the document come from the Worker itself. */

const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

/**
 * Swagger UI renders a long operation list virtualized (only what is near the viewport is in the DOM), so the
 * page is scrolled to the end, collecting the operations it rendered on the way.
 */
async function renderedOperations(page: Page): Promise<number> {
  const seen = new Set<string>();
  for (let unchanged = 0; unchanged < 3;) {
    const before = seen.size;
    for (const id of await page.locator(".opblock").evaluateAll((blocks) => blocks.map((b) => b.id))) seen.add(id);
    unchanged = seen.size === before ? unchanged + 1 : 0;
    await page.mouse.wheel(0, 600);
    await page.waitForTimeout(100);
  }
  return seen.size;
}

let engine: Engine;
let browser: Browser;

beforeAll(async () => {
  [engine, browser] = await Promise.all([startEngine(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe("/docs", () => {
  it("renders Swagger UI with every operation of /openapi.json, loading nothing from outside this machine", async () => {
    const doc = (await (await fetch(`${engine.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    // Swagger UI lists an operation once under each of its tags ("default" when it has none).
    const listed = Object.values(doc.paths).flatMap((item) =>
      Object.entries(item).flatMap(([method, op]) => (METHODS.has(method) ? (op.tags ?? ["default"]) : [])),
    );
    expect(listed.length).toBeGreaterThan(50);

    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/docs`);
    // A CDN reference fails here, by name, rather than as a blank page timing out below.
    expectNoOutsideRequests(page);
    await page.locator(".opblock").first().waitFor({ timeout: 60_000 });
    await expect(page.locator(".info .title").textContent()).resolves.toContain("Automation Engine API");
    expect(await renderedOperations(page)).toBe(listed.length);
    await page.mouse.wheel(0, -1e6);

    // The screenshot first: it is the artifact to look at when the accessibility check fails.
    await screenshot(page, "docs", { fullPage: false });
    // nested-interactive: Swagger UI renders each operation's summary as a <button> around its own deep link and
    // copy button; that markup is Swagger UI's (swagger-ui-dist), not ours, and no stylesheet can change it.
    await checkA11y(page, "docs", { disableRules: ["nested-interactive"] });
    expectCleanPage(page);
  });
});
