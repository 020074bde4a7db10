/**
 * Chromium through Playwright, kept on this machine: every request a page makes to a host that is not
 * loopback is aborted and recorded, and the checks below fail a test that attempted one. Also collects a
 * page's console errors, runs axe-core on it (from node_modules, never a CDN) and saves screenshots.
 */
import type { AxeResults, Result, RunOptions } from "axe-core";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const AXE_PATH = join(ROOT, "node_modules", "axe-core", "axe.min.js");
/** Kept by CI as artifacts; gitignored. */
export const ARTIFACTS_DIR = join(ROOT, "test-artifacts");
export const SCREENSHOTS_DIR = join(ARTIFACTS_DIR, "screenshots");
/** Debian's chromium package; CHROMIUM_PATH points elsewhere (.ci/run installs the package when missing). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** WCAG 2.0, 2.1 and 2.2, levels A and AA. */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"];

let axeSource: string | undefined;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** What a page did that a test may have to fail on. */
export interface PageReport {
  /**
   * URLs off this machine the page tried to load: requests aborted by the route, and loads the page's own
   * Content-Security-Policy refused before any request (the browser reports those only on the console).
   */
  outsideRequests: string[];
  /** console.error messages and uncaught exceptions. */
  consoleErrors: string[];
}

const reports = new WeakMap<Page, PageReport>();

/** True for URLs the browser may load: loopback hosts and non-network schemes (data:, blob:, about:). */
export function isLocalUrl(url: string): boolean {
  const parsed = new URL(url);
  if (!["http:", "https:", "ws:", "wss:"].includes(parsed.protocol)) return true;
  return LOOPBACK_HOSTS.has(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Belt and braces for the browser's own background traffic, which page routes do not see: nothing but
    // loopback resolves.
    args: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"],
  });
}

/**
 * A page in a fresh context (its own cookies and sessionStorage), whose outside requests are blocked and
 * recorded and whose console errors are collected (read them with pageReport / expectCleanPage).
 */
export async function newPage(browser: Browser, options: { viewport?: { width: number; height: number } } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    serviceWorkers: "block",
  });
  const report: PageReport = { outsideRequests: [], consoleErrors: [] };
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (isLocalUrl(url)) return route.continue();
    report.outsideRequests.push(url);
    return route.abort("blockedbyclient");
  });
  await context.routeWebSocket(
    (url) => !isLocalUrl(url.href),
    (ws) => {
      report.outsideRequests.push(ws.url());
      return ws.close();
    },
  );
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    report.consoleErrors.push(text);
    const refused = /Content Security Policy/.test(text) ? /'([a-z]+:\/\/[^']+)'/.exec(text)?.[1] : undefined;
    if (refused && !isLocalUrl(refused)) report.outsideRequests.push(`${refused} (refused by the page's CSP)`);
  });
  page.on("pageerror", (err) => report.consoleErrors.push(`uncaught: ${err.message}`));
  reports.set(page, report);
  return page;
}

export function pageReport(page: Page): PageReport {
  const report = reports.get(page);
  if (!report) throw new Error("pageReport: the page was not made by newPage()");
  return report;
}

/** Fails if the page tried to load anything from off this machine. */
export function expectNoOutsideRequests(page: Page): void {
  const { outsideRequests } = pageReport(page);
  if (outsideRequests.length > 0) {
    throw new Error(`The page tried to load from outside this machine (blocked):\n  ${outsideRequests.join("\n  ")}`);
  }
}

/** Fails on outside requests and on console errors not matched by `allowConsoleErrors`. */
export function expectCleanPage(page: Page, options: { allowConsoleErrors?: RegExp[] } = {}): void {
  expectNoOutsideRequests(page);
  const allowed = options.allowConsoleErrors ?? [];
  const errors = pageReport(page).consoleErrors.filter((text) => !allowed.some((pattern) => pattern.test(text)));
  if (errors.length > 0) throw new Error(`The page logged errors:\n  ${errors.join("\n  ")}`);
}

export interface A11yOptions {
  /** axe rule ids to skip on this page; say why at the call site. */
  disableRules?: string[];
  /** CSS selectors of regions to leave out; say why at the call site. */
  exclude?: string[];
}

function describeViolations(name: string, violations: Result[]): string {
  const lines = violations.map((v) => {
    const nodes = v.nodes.slice(0, 5).map((n) => `      ${n.target.join(" ")}  ${n.html.slice(0, 160)}`);
    const more = v.nodes.length > 5 ? [`      … and ${v.nodes.length - 5} more`] : [];
    return [`  [${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})`, ...nodes, ...more].join("\n");
  });
  return `axe-core found ${violations.length} accessibility violation(s) on "${name}" (WCAG 2 A/AA):\n${lines.join("\n")}`;
}

/**
 * Runs axe-core's WCAG 2 A/AA rules on the page as it is now; fails with a readable list of violations.
 * The full result is written to test-artifacts/a11y/<name>.json either way. Also fails on outside requests.
 */
export async function checkA11y(page: Page, name: string, options: A11yOptions = {}): Promise<void> {
  expectNoOutsideRequests(page);
  // Evaluated rather than added with page.addScriptTag({ path }): that inserts an inline <script>, which the
  // pages' Content-Security-Policy (script-src 'self') refuses, and the CSP is part of what is under test.
  await page.evaluate((axeSource ??= await readFile(AXE_PATH, "utf8")));
  const runOptions: RunOptions = {
    runOnly: { type: "tag", values: WCAG_TAGS },
    rules: Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }])),
  };
  const results = await page.evaluate(
    ({ exclude, runOptions }) => {
      const axe = (globalThis as unknown as { axe: { run(context: unknown, options: RunOptions): Promise<AxeResults> } }).axe;
      return axe.run({ include: ["html"], exclude }, runOptions);
    },
    { exclude: options.exclude ?? [], runOptions },
  );
  const file = join(ARTIFACTS_DIR, "a11y", `${slug(name)}.json`);
  await mkdir(join(ARTIFACTS_DIR, "a11y"), { recursive: true });
  await writeFile(
    file,
    JSON.stringify({ url: results.url, violations: results.violations, incomplete: results.incomplete }, null, 2),
  );
  if (results.violations.length > 0) throw new Error(describeViolations(name, results.violations));
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/**
 * Saves a PNG of the page (the whole page unless `fullPage: false`, for pages that render only what is in
 * view) to test-artifacts/screenshots/<name>.png and returns its path.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  expectNoOutsideRequests(page);
  const path = join(SCREENSHOTS_DIR, `${slug(name)}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}
