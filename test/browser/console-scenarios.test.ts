import type { Browser, Page } from "playwright-core";
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
 * The console (issue #17) in Chromium against `npm run dev`: sign in, watch a run reach success without a
 * reload, read its timeline, retrigger a failed step, approve a bulk job. Every page is checked with axe-core
 * and photographed (test-artifacts/screenshots/console-*.png).
 */

const ORG = "org-console";
const WAIT_MS = 30_000;
const PHONE = { width: 375, height: 812 };

/** The page's globals, for callbacks run in the page (this project's types have no DOM; casts vanish when compiled). */
interface PageGlobals {
  sessionStorage: { length: number; key(index: number): string | null };
  document: { querySelector(selector: string): { textContent: string | null } | null; documentElement: { scrollWidth: number } };
  marker?: number;
}

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

async function created<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body as T;
}

async function createFlow(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const flow = await created<{ id: string }>("POST", "/v1/automation/flows", {
    flow_name: name,
    triggers: [{ type: "manual" }],
    actions: [
      { id: "notify", name: "Notify the sink", type: "call_webhook", config: { url: `${engine.sink.url}/hook/${name.length}` } },
    ],
    ...extra,
  });
  return flow.id;
}

/** Starts an execution without waiting for it (the API answers at once; the run goes on in its object). */
async function startRun(flowId: string): Promise<string> {
  return (await created<{ id: string }>("POST", "/v1/automation/executions", { flow_id: flowId, entity_id: "record-1" })).id;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${engine.baseUrl}/console#/signin`);
  await page.getByLabel("API key").fill(engine.adminKey);
  await page.getByLabel(/Organization id/).fill(ORG);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Flows" }).waitFor();
}

/**
 * axe-core, a screenshot, and no outside request or console error. `expectStatus`: the browser logs every
 * failed API answer as an error ("Failed to load resource"), which is right where a refusal is the test.
 */
async function record(page: Page, name: string, expectStatus?: number): Promise<void> {
  await checkA11y(page, name);
  await screenshot(page, name);
  const allowed = expectStatus
    ? [new RegExp(`Failed to load resource: the server responded with a status of ${expectStatus}`)]
    : [];
  expectCleanPage(page, { allowConsoleErrors: allowed });
}

describe("the console", () => {
  it("1. signs in with the admin key and an organization, refuses a wrong key, and signs out", async () => {
    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/console`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await record(page, "console-sign-in");

    await page.getByLabel("API key").fill("wrong-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("signin-error").waitFor();
    expect(await page.getByTestId("signin-error").textContent()).toContain("401");
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0);

    await signIn(page);
    expect(
      await page.evaluate(() => {
        const storage = (globalThis as unknown as PageGlobals).sessionStorage;
        return Array.from({ length: storage.length }, (_, i) => storage.key(i));
      }),
    ).toEqual(["automation-console.session"]);
    await record(page, "console-flows-empty", 401);

    await page.getByTestId("sign-out").click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0);
    await page.close();
  });

  let flowId: string;
  let runId: string;

  it("2. shows a run started through the API reaching success in the runs list, without a reload", async () => {
    flowId = await createFlow("Console demo", {
      description: "Posts to the sink",
    });
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs`);
    await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();
    await page.getByText("No runs match.").waitFor();
    const marker = await page.evaluate(() => ((globalThis as unknown as PageGlobals).marker = Math.random()));

    runId = await startRun(flowId);
    await page.locator(`[data-testid=run-row][data-run-id="${runId}"][data-status="success"]`).waitFor({ timeout: WAIT_MS });
    // The same document: the list refreshed itself.
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(marker);
    await record(page, "console-runs");

    // The status filter hides the run; the flow filter keeps it.
    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No runs match.").waitFor();
    await page.getByLabel("Status").selectOption("success");
    await page.locator(`[data-run-id="${runId}"]`).waitFor();

    // The flows list counts the run; the flow page draws the flow.
    await page.getByRole("link", { name: "Flows", exact: true }).click();
    const row = page.locator(`[data-testid=flow-row][data-flow-id="${flowId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("100 %");
    await record(page, "console-flows");
    await row.getByRole("link").click();
    await page.getByTestId("flow-graph").waitFor();
    expect(await page.getByTestId("graph-action").count()).toBe(1);
    await record(page, "console-flow");
    await page.close();
  });

  it("3. opens the run's timeline with its attempt and the request it sent", async () => {
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${runId}`);
    await page.locator('[data-testid=run-status][data-status="success"]').waitFor({ timeout: WAIT_MS });
    const action = page.locator('[data-testid=timeline-action][data-action-id="notify"]');
    expect(await action.getByTestId("attempt").count()).toBe(1);
    expect(await action.getByTestId("attempt").first().textContent()).toContain("success");
    await action.getByTestId("action-request").locator("summary").click();
    expect(await action.getByTestId("action-request").textContent()).toContain("/hook/");
    await record(page, "console-run-timeline");
    await page.close();
  });

  it("4. retriggers a failed step and shows its new attempt", async () => {
    engine.sink.failNext(1, 400); // a 4xx is not retried: the action fails at once
    const failedRun = await startRun(flowId);
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${failedRun}`);
    await page.locator('[data-testid=run-status][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    const action = page.locator('[data-testid=timeline-action][data-action-id="notify"]');
    await action.getByTestId("action-error").waitFor();
    expect(await action.getByTestId("attempt").count()).toBe(1);
    await record(page, "console-run-failed");

    await action.getByLabel("Retrigger strategy").selectOption("RETRY_AND_RESUME");
    await action.getByTestId("retrigger-button").click();
    await page.locator('[data-testid=run-status][data-status="success"]').waitFor({ timeout: WAIT_MS });
    // The action's attempt count goes on (2), and its latest attempt is the new, successful one.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelector('[data-action-id="notify"] [data-testid=attempts-total]')
          ?.textContent === "2",
      undefined,
      { timeout: WAIT_MS },
    );
    expect(await action.getByTestId("attempt").last().textContent()).toContain("success");
    expect(await action.textContent()).toContain("RETRY_AND_RESUME");
    expect(await action.getByTestId("action-error").count()).toBe(0);
    await record(page, "console-run-retriggered");
    await page.close();
  });

  it("5. approves a bulk job with its task token", async () => {
    const job = await created<{ job_id: string; task_token: string; status: string }>(
      "POST",
      "/v1/automation/executions/bulk-jobs",
      {
        flow_id: flowId,
        entities_refs: [
          { entity_id: "bulk-1", entity_schema: "contact" },
          { entity_id: "bulk-2", entity_schema: "contact" },
        ],
      },
    );
    expect(job.status).toBe("approval");
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/bulk-jobs/${job.job_id}`);
    await page.locator('[data-testid=job-status][data-status="approval"]').waitFor({ timeout: WAIT_MS });
    await record(page, "console-bulk-job-approval");

    await page.getByLabel(/Task token/).fill(job.task_token);
    await page.getByTestId("approve-job").click();
    await page.locator('[data-testid=job-status]:not([data-status="approval"])').waitFor({ timeout: WAIT_MS });
    const approved = await api("GET", `/v1/automation/executions/bulk-jobs/${job.job_id}`);
    expect((approved.body as { approved_at?: string }).approved_at).toBeTruthy();
    await record(page, "console-bulk-job-approved");
    await page.close();
  });

  it("6. shows an agent's pending tool call with its arguments, and Approve runs it", async () => {
    const connection = async (platform: string, config: Record<string, unknown>) =>
      (await created<{ id: string }>("POST", "/v1/connections", { platform, name: platform, config })).id;
    const model = await connection("openai", {
      base_url: `${engine.sink.url}/ai/openai/support-agent/console`,
      model: "scripted",
    });
    await connection("hubspot", { access_token: "pat-console", base_url: `${engine.sink.url}/hubspot` });
    await connection("slack", { bot_token: "xoxb-console", base_url: `${engine.sink.url}/slack` });
    const agentFlow = await created<{ id: string }>("POST", "/v1/automation/flows", {
      flow_name: "Support agent",
      triggers: [{ type: "manual" }],
      actions: [
        {
          id: "reply",
          name: "Draft and post a reply",
          type: "ai_agent",
          config: {
            connection_id: model,
            input: "Customer ada@example.com was charged twice.",
            tools: ["hubspot_get_contact", "slack_post_message"],
          },
        },
      ],
    });
    const run = await startRun(agentFlow.id);
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${run}`);
    const approval = page.getByTestId("approval");
    await approval.waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId("approval-tool").textContent()).toBe("slack_post_message");
    expect(await page.getByTestId("approval-arguments").textContent()).toContain("#support");
    expect(engine.sink.requests().filter((r) => r.path.startsWith("/slack/chat.postMessage"))).toHaveLength(0);
    await record(page, "console-run-approval");

    await page.getByLabel(/Comment/).fill("Looks right");
    await page.getByTestId("approve-call").click();
    await page.locator('[data-testid=run-status][data-status="success"]').waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId("approval").count()).toBe(0);
    expect(await page.getByTestId("llm-usage").textContent()).toMatch(/\d+ \(\d+ in, \d+ out\)/);
    expect(engine.sink.requests().filter((r) => r.path.startsWith("/slack/chat.postMessage"))).toHaveLength(1);
    await record(page, "console-run-approved");
    await page.close();
  });

  it("works at phone width (375 px): no sideways scrolling, and the pages stay accessible", async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await signIn(page);
    for (const [hash, name, ready] of [
      ["#/flows", "console-phone-flows", "[data-testid=flows-table]"],
      [`#/flows/${flowId}`, "console-phone-flow", "[data-testid=flow-graph]"],
      [`#/runs/${runId}`, "console-phone-run", "[data-testid=timeline]"],
    ] as const) {
      await page.goto(`${engine.baseUrl}/console${hash}`);
      await page.locator(ready).waitFor({ timeout: WAIT_MS });
      expect(
        await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth),
        name,
      ).toBeLessThanOrEqual(PHONE.width);
      await record(page, name);
    }
    await page.close();
  });

  it("shows a readable error for a run that does not exist, and a dry run changes nothing", async () => {
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/no-such-run`);
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("404");
    await record(page, "console-run-not-found", 404);

    const before = engine.sink.requests().length;
    await page.goto(`${engine.baseUrl}/console#/flows/${flowId}`);
    await page.getByTestId("test-data").fill('{ "name": "Ada" }');
    await page.getByTestId("dry-run").click();
    await page.getByTestId("dry-run-result").waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId("dry-run-result").textContent()).toMatch(/would run; conditions pass; it would end/);
    expect(engine.sink.requests().length).toBe(before);
    await record(page, "console-flow-dry-run", 404); // the page's log still holds the 404s above
    await page.close();
  });
});

describe("/docs", () => {
  it("renders Swagger UI from the engine alone, with the engine's document", async () => {
    const page = await newPage(browser);
    await page.goto(`${engine.baseUrl}/docs`);
    await page.locator(".swagger-ui .info .title").waitFor({ timeout: WAIT_MS });
    expect(await page.locator(".swagger-ui .info .title").textContent()).toContain("Automation Engine API");
    await screenshot(page, "docs");
    expectCleanPage(page);
    await page.close();
  });

  it("keeps the API's JSON 404 next to the assets (no page fallback)", async () => {
    const res = await fetch(`${engine.baseUrl}/v1/automation/no-such-thing`, {
      headers: { authorization: `Bearer ${engine.adminKey}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const unknownPage = await fetch(`${engine.baseUrl}/console/no-such-file.js`);
    expect(unknownPage.status).toBe(404);
    expect(unknownPage.headers.get("content-type")).toMatch(/json/);
  });
});
