import { defineConfig } from "vitest/config";

/**
 * `npm run test:browser`: the tests under test/browser/ drive Chromium against an engine that each file starts
 * with `npm run dev` (test/browser/harness.ts). They run in Node, not in the Workers pool of vitest.config.ts,
 * which leaves test/browser/ out.
 */
export default defineConfig({
  test: {
    name: "browser",
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    // Stops any engine a test file left running (a crash, a timed-out hook): see support/global-setup.ts.
    globalSetup: ["test/browser/support/global-setup.ts"],
    // Starting the engine (migrations, the assets build, bundling, workerd) takes 10–20 s, minutes on a busy
    // machine; the harness bounds it itself (ENGINE_START_TIMEOUT_MS) and reports the engine's output then.
    hookTimeout: 300_000,
    testTimeout: 120_000,
    teardownTimeout: 60_000,
    // One engine and one browser at a time: each file's engine is a whole workerd.
    fileParallelism: false,
  },
});
