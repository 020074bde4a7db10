/**
 * The browser-test harness (issue #17, "Tests in a real browser"): start the engine with `npm run dev` on free
 * ports with its own outbound sink, drive Debian's Chromium through Playwright with every request off this
 * machine blocked, check pages with axe-core and save screenshots. One engine per test file:
 *
 *   let engine: Engine; let browser: Browser;
 *   beforeAll(async () => { engine = await startEngine(); browser = await launchBrowser(); });
 *   afterAll(async () => { await browser?.close(); await engine?.stop(); });
 */
export { startEngine, engineApi, liveProcessesInGroup, type Engine } from "./support/engine.ts";
export { startSink } from "./support/sink.ts";
export {
  launchBrowser,
  newPage,
  pageReport,
  expectNoOutsideRequests,
  expectCleanPage,
  checkA11y,
  screenshot,
  isLocalUrl,
} from "./support/browser.ts";
