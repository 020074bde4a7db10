import type { Browser, Locator, Page } from "playwright-core";
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
 * Issue 27 in the console, in Chromium against `npm run dev`: the run view names each action and shows the
 * ledger of side effects; the rerun preview (decisions, the effects it would send with their repeated keys,
 * totals per target) is what the retrigger then adds to the ledger; the flow page shows the plan and its
 * warnings. Every page is checked with axe-core and photographed (test-artifacts/screenshots/reruns-*.png).
 */

const ORG = "org-reruns";
const WAIT_MS = 30_000;

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

/** The fields of the API's ledger entries and preview effects that the console shows. */
interface Effect {
  action_id: string;
  action_name: string;
  iteration: number | null;
  attempt: number;
  kind: string;
  method?: string;
  target: string;
  idempotency_key?: string;
  dedupe: string;
  repeats_idempotency_key: boolean;
  outcome?: string;
  status?: number;
}
interface Ledger {
  total: number;
  effects: (Effect & { seq: number })[];
}
interface Preview {
  status_after: string;
  actions: { action_id: string; action_name: string; decision: string; calls: number; effects: number }[];
  effects: Effect[];
  totals: { effects: number; by_target: { kind: string; target: string; count: number; repeated: number }[] };
}
interface PlanIssue {
  message: string;
}
interface FlowWithPlan {
  id: string;
  plan: { max_actions: number; max_outbound_requests: number; warnings: PlanIssue[]; errors: PlanIssue[] };
}

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await api(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body as T;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${engine.baseUrl}/console#/signin`);
  await page.getByLabel("API key").fill(engine.adminKey);
  await page.getByLabel(/Organization id/).fill(ORG);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Flows" }).waitFor();
}

/** axe-core, a screenshot, and no outside request or console error. */
async function record(page: Page, name: string): Promise<void> {
  await checkA11y(page, name);
  await screenshot(page, name);
  expectCleanPage(page);
}

/** A table row's cells as the user reads them (whitespace collapsed). */
async function cells(row: Locator): Promise<string[]> {
  return (await row.locator("th, td").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
}

/** How the console names where an effect came from (console/reruns.ts effectOrigin), from the API's fields. */
const origin = (e: Effect) => `${e.action_name}${e.iteration !== null ? `, item ${e.iteration + 1}` : ""}, attempt ${e.attempt}`;
const kindOf = (e: Effect) => `${e.kind}${e.method ? ` ${e.method}` : ""}`;

/** The ledger table's rows as [origin, kind, target, outcome] and whether the key cell marks a repeat. */
async function ledgerRows(page: Page): Promise<{ cells: string[]; repeat: boolean }[]> {
  const rows = page.getByTestId("ledger").getByTestId("ledger-entry");
  const out = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const c = await cells(rows.nth(i));
    out.push({ cells: c.slice(0, 4), repeat: c[5].includes("repeats key") });
  }
  return out;
}

const ledgerRowOf = (e: Effect) => ({
  cells: [origin(e), kindOf(e), e.target, `${e.outcome}${e.status ? ` ${e.status}` : ""}`],
  repeat: e.repeats_idempotency_key,
});

/** The fields that say "the same effect": the preview's and the ledger's must agree on each. */
const sameness = (e: Effect) => ({
  action_id: e.action_id,
  action_name: e.action_name,
  iteration: e.iteration,
  attempt: e.attempt,
  kind: e.kind,
  method: e.method,
  target: e.target,
  idempotency_key: e.idempotency_key,
  dedupe: e.dedupe,
  repeats_idempotency_key: e.repeats_idempotency_key,
});

describe("reruns in the console", () => {
  let flowId: string;
  let runId: string;
  let host: string;

  it("1. a flow with a loop, one item's endpoint failing once and one attempt allowed, fails", async () => {
    host = new URL(engine.sink.url).host;
    const flow = await ok<FlowWithPlan>("POST", "/v1/automation/flows", {
      flow_name: "Fan out",
      triggers: [{ type: "manual" }],
      retry_policy: { max_attempts: 1 },
      // The sink echoes the JSON it receives as `received`: the loop goes over the items the first call sent.
      loops: [{ id: "items", source_path: "actions.list.outputs.body.received.items", length: 3 }],
      actions: [
        {
          id: "list",
          name: "Fetch items",
          type: "call_webhook",
          config: { url: `${engine.sink.url}/list`, body: { items: ["a", "b", "c"] } },
        },
        {
          id: "each",
          name: "Push item",
          type: "call_webhook",
          loop_id: "items",
          // Item b goes to an endpoint that answers 500 once, then 200.
          config: {
            url: `${engine.sink.url}/{% if loop.item == "b" %}flaky/1/b{% else %}item/{{ loop.item }}{% endif %}`,
            body: { item: "{{ loop.item }}" },
          },
        },
        { id: "after", name: "Report", type: "call_webhook", config: { url: `${engine.sink.url}/report` } },
      ],
    });
    flowId = flow.id;
    runId = (await ok<{ id: string }>("POST", "/v1/automation/executions", { flow_id: flowId, entity_id: "record-1" })).id;

    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${runId}`);
    await page.locator('[data-testid=run-status][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    const each = page.locator('[data-testid=timeline-action][data-action-id="each"]');
    await each.getByTestId("action-error").waitFor();
    expect(engine.sink.requests().map((r) => [r.path, r.status])).toEqual([
      ["/list", 200],
      ["/item/a", 200],
      ["/flaky/1/b", 500],
    ]);
    await record(page, "reruns-run-failed");
    await page.close();
  });

  it("2. the run view names each action and shows the ledger: action, item, attempt, target, outcome", async () => {
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${runId}`);
    await page.locator('[data-testid=run-status][data-status="failed"]').waitFor({ timeout: WAIT_MS });

    // Three call_webhook steps, each under its own name: the headings differ.
    const headings = await page.getByTestId("timeline").getByRole("heading", { level: 3 }).allTextContents();
    expect(headings.map((h) => h.replace(/\s+/g, " ").trim())).toEqual([
      "Fetch items success",
      "Push item failed",
      "Report skipped",
    ]);
    for (const name of ["Fetch items", "Push item", "Report"]) {
      await page.getByRole("heading", { level: 3, name: new RegExp(`^${name}`) }).waitFor();
    }

    // The loop's items, counted in words a person reads.
    const loop = page.locator('[data-testid=timeline-action][data-action-id="each"]').locator("details.iterations > summary");
    expect((await loop.textContent())?.trim()).toBe("Loop: 3 of 3 items");

    await page.getByRole("heading", { level: 2, name: "Side effects" }).waitFor();
    const ledger = await ok<Ledger>("GET", `/v1/automation/executions/${runId}/effects`);
    expect(ledger.total).toBe(3);
    expect(await ledgerRows(page)).toEqual(ledger.effects.map(ledgerRowOf));
    expect((await ledgerRows(page)).map((r) => r.cells)).toEqual([
      ["Fetch items, attempt 1", "http POST", `${host}/list`, "ok 200"],
      ["Push item, item 1, attempt 1", "http POST", `${host}/item/a`, "ok 200"],
      ["Push item, item 2, attempt 1", "http POST", `${host}/flaky/1/b`, "failed 500"],
    ]);
    await record(page, "reruns-run-ledger");
    await page.close();
  });

  it("3. previews the rerun of the loop action, retriggers it, and the ledger adds what the preview listed", async () => {
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/runs/${runId}`);
    await page.locator('[data-testid=run-status][data-status="failed"]').waitFor({ timeout: WAIT_MS });
    const each = page.locator('[data-testid=timeline-action][data-action-id="each"]');
    const sentBefore = engine.sink.requests().length;

    // The failed loop action offers its retry open; the preview uses the strategy chosen there.
    await each.getByLabel("Retrigger strategy").selectOption("RETRY_AND_RESUME");
    await each.getByRole("button", { name: "Preview (sends nothing)" }).click();
    const shown = each.getByTestId("rerun-preview");
    await shown.waitFor();
    const preview = await ok<Preview>("POST", `/v1/automation/executions/${runId}/each/retrigger:preview`, {
      retry_strategy: "RETRY_AND_RESUME",
    });
    expect(engine.sink.requests().length, "a preview sends nothing").toBe(sentBefore);
    expect(preview.status_after).toBe("success");

    // Decisions, per action by name.
    const decisions = shown.getByTestId("rerun-decision");
    expect(await decisions.count()).toBe(preview.actions.length);
    expect(preview.actions.map((a) => [a.action_id, a.decision])).toEqual([
      ["list", "reuse-output"],
      ["each", "re-execute"],
      ["after", "re-execute"],
    ]);
    for (const [i, a] of preview.actions.entries()) {
      const text = (await decisions.nth(i).textContent())?.replace(/\s+/g, " ") ?? "";
      expect(text.trim().startsWith(`${a.action_name}: ${a.decision}`), text).toBe(true);
    }
    expect(await decisions.nth(1).textContent()).toBe("Push item: re-execute (3 calls), 3 effect(s)");
    expect(await decisions.nth(0).textContent()).toBe(
      "Fetch items: reuse-output (kept from the earlier run: its recorded outputs are used)",
    );
    expect(await shown.getByTestId("rerun-preview-summary").textContent()).toContain(
      "2 action(s) re-executed, 1 reusing recorded outputs, 0 skipped; 4 effect(s) would be sent, 2 repeating an idempotency key already sent; the run would end success.",
    );

    // The effects it would send again, with a "repeats key" mark where a key was already sent.
    const effectRows = shown.getByTestId("rerun-effect");
    expect(await effectRows.count()).toBe(preview.effects.length);
    const seen = [];
    for (let i = 0; i < preview.effects.length; i++) {
      const c = await cells(effectRows.nth(i));
      seen.push({ cells: c.slice(0, 3), repeat: c[3].includes("repeats key") });
      expect(c[3]).toContain(preview.effects[i].idempotency_key ?? "none");
    }
    expect(seen).toEqual(
      preview.effects.map((e) => ({ cells: [origin(e), kindOf(e), e.target], repeat: e.repeats_idempotency_key })),
    );
    expect(seen.map((s) => [s.cells[0], s.cells[2], s.repeat])).toEqual([
      ["Push item, item 1, attempt 3", `${host}/item/a`, true],
      ["Push item, item 2, attempt 3", `${host}/flaky/1/b`, true],
      ["Push item, item 3, attempt 3", `${host}/item/c`, false],
      ["Report, attempt 1", `${host}/report`, false],
    ]);
    expect(await shown.getByTestId("repeats-key").count()).toBe(2);

    // Totals per target.
    const targets = (await shown.getByTestId("rerun-targets").getByRole("listitem").allTextContents()).map((t) =>
      t.replace(/\s+/g, " ").trim(),
    );
    expect(targets).toEqual(
      preview.totals.by_target.map(
        (t) => `${t.kind} ${t.target}: ${t.count}${t.repeated ? ` (${t.repeated} repeating a key already sent)` : ""}`,
      ),
    );
    await record(page, "reruns-preview");

    // Retrigger from the console, with the same choices.
    await each.getByRole("button", { name: "Retrigger", exact: true }).click();
    await page.locator('[data-testid=run-status][data-status="success"]').waitFor({ timeout: WAIT_MS });
    await page.getByTestId("ledger").getByTestId("ledger-entry").nth(6).waitFor({ timeout: WAIT_MS });

    const ledger = await ok<Ledger>("GET", `/v1/automation/executions/${runId}/effects`);
    expect(ledger.total).toBe(7);
    const added = ledger.effects.slice(3);
    // The preview is the rerun: the entries it added are the effects it listed.
    expect(added.map(sameness)).toEqual(preview.effects.map(sameness));
    expect(added.every((e) => e.outcome === "ok")).toBe(true);
    // The console's ledger shows the same seven, the last four being the preview's effects.
    const rows = await ledgerRows(page);
    expect(rows).toEqual(ledger.effects.map(ledgerRowOf));
    expect(rows.slice(3).map((r) => [r.cells[0], r.cells[2], r.repeat])).toEqual(
      seen.map((s) => [s.cells[0], s.cells[2], s.repeat]),
    );
    // What reached the sink is what the preview said would be sent.
    expect(
      engine.sink
        .requests()
        .slice(sentBefore)
        .map((r) => `${host}${r.path}`),
    ).toEqual(preview.effects.map((e) => e.target));
    await record(page, "reruns-run-retriggered");
    await page.close();
  });

  it("4. the flow page shows the plan; a flow that may exceed a limit shows the warning", async () => {
    const flow = await ok<FlowWithPlan>("GET", `/v1/automation/flows/${flowId}`);
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${engine.baseUrl}/console#/flows/${encodeURIComponent(flowId)}`);
    await page.getByRole("heading", { level: 2, name: "Plan: worst case of one run" }).waitFor();
    const plan = page.getByTestId("flow-plan");
    // One list call, three items (the loop's declared length), one report: each one request.
    expect([flow.plan.max_actions, flow.plan.max_outbound_requests]).toEqual([5, 5]);
    expect(await plan.getByTestId("plan-actions").textContent()).toBe("5");
    expect(await plan.getByTestId("plan-requests").textContent()).toBe("5");
    expect(await plan.getByTestId("plan-requests-invocation").textContent()).toMatch(/^\d+ \(Free 50, Paid \d+\)$/);
    // A webhook's answer may be larger than a loop item keeps: the planner says so, and so does the page.
    expect(flow.plan.errors).toEqual([]);
    expect(flow.plan.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^Action each: one item's outputs may reach \d+ KB; each item keeps at most \d+ KB/),
    ]);
    await plan.getByText("It may exceed a limit:").waitFor();
    const shown = (await plan.getByTestId("plan-warning").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    expect(shown).toEqual([`${flow.plan.warnings[0].message} actions.1`]);
    await record(page, "reruns-flow-plan");

    // A delay whose duration a template decides cannot be counted: a warning, saved all the same.
    const warned = await ok<FlowWithPlan>("POST", "/v1/automation/flows", {
      flow_name: "Wait as told",
      triggers: [{ type: "manual" }],
      actions: [
        { id: "wait", name: "Wait", type: "delay", config: { duration: "{{ trigger_event.wait }}", unit: "seconds" } },
        { id: "tell", name: "Tell", type: "call_webhook", config: { url: `${engine.sink.url}/told` } },
      ],
    });
    expect(warned.plan.warnings.length).toBeGreaterThan(0);
    await page.goto(`${engine.baseUrl}/console#/flows/${encodeURIComponent(warned.id)}`);
    await page.getByRole("heading", { level: 1, name: "Wait as told" }).waitFor();
    await page.getByRole("heading", { level: 2, name: "Plan: worst case of one run" }).waitFor();
    await page.getByText("It may exceed a limit:").waitFor();
    const warnings = (await page.getByTestId("plan-warning").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    expect(warnings).toHaveLength(warned.plan.warnings.length);
    warned.plan.warnings.forEach((w, i) => expect(warnings[i]).toContain(w.message));
    expect(warnings[0]).toContain("Action wait: its delay is a template, not counted in total_delay_seconds");
    await record(page, "reruns-flow-plan-warning");
    await page.close();
  });
});
