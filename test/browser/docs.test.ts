import type { Browser } from "playwright-core";
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
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item).filter((m) => METHODS.has(m)));
    expect(operations.length).toBeGreaterThan(50);

    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/docs`);
    // A CDN reference fails here, by name, rather than as a blank page timing out below.
    expectNoOutsideRequests(page);
    await page.locator(".opblock").first().waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator(".opblock").count(), { timeout: 10_000 }).toBe(operations.length);
    await expect(page.locator(".info .title").textContent()).resolves.toContain("Automation Engine API");

    // The screenshot first: it is the artifact to look at when the accessibility check fails.
    await screenshot(page, "docs");
    // nested-interactive: Swagger UI renders each operation's summary as a <button> around its own deep link and
    // copy button; that markup is Swagger UI's (swagger-ui-dist), not ours, and no stylesheet can change it.
    await checkA11y(page, "docs", { disableRules: ["nested-interactive"] });
    expectCleanPage(page);
  });
});
