import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { build } from "esbuild";
import { fixtureWriter } from "./test/support/fixture-writer.mjs";
import { FAST_TESTS } from "./test/support/fast-tests.ts";
import { LongFilesFirst } from "./test/support/sequencer.ts";
import { preferRamTmpdir } from "./test/support/tmpfs.mjs";
import { buildAssets } from "./scripts/build-assets.mjs";

export default defineConfig(async () => {
  // D1 and object storage on a RAM file system when there is one (test/support/tmpfs.mjs).
  preferRamTmpdir();
  const migrations = await readD1Migrations("./migrations");
  // The Worker serves /console and /docs from the built assets (wrangler.toml [assets]); wrangler builds them
  // for dev and deploy, the tests here.
  await buildAssets();
  // The sink (test/support/sink.ts) runs as an auxiliary Worker inside each workerd: bundled here, once.
  const sinkBundle = await build({
    entryPoints: ["./test/support/sink-worker.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    // "neutral" resolves no package entry by default; the MCP SDK's server (test/ai/mcp-server.ts) needs
    // packages that only have `main`.
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  const sinkScript = sinkBundle.outputFiles[0].text;
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_API_KEY: "test-admin-key",
            JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
            ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=",
            // Only the sink: loopback and private targets stay refused, as in production (test/security/ssrf-table.test.ts).
            ALLOWED_OUTBOUND_HOSTS: "sink.test",
            // The host tests call the Worker at (test/helpers.ts BASE): outbound calls to it are refused.
            SELF_HOSTS: "engine.test",
            // Executions take their first step on their alarm, which the tests fire on purpose; the inline
            // first step of production (ExecutionObject.start) has its own tests (test/execution/inline-start.test.ts).
            EXECUTION_INLINE_START: "0",
            // Tests change flows behind store/'s back (raw SQL) and expect the next start to see it: the
            // per-isolate flow cache of production (src/store/flow-cache.ts) is tested on its own.
            FLOW_CACHE_TTL_MS: "0",
          },
          // Test-only limiters with small limits: test/security/rate-limits.test.ts swaps them in for the
          // RL_* bindings, whose production limits (wrangler.toml) the rest of the suite runs under.
          ratelimits: {
            RL_TEST_5: { namespace_id: "9001", simple: { limit: 5, period: 60 } },
            RL_TEST_8: { namespace_id: "9002", simple: { limit: 8, period: 60 } },
          },
          // Every outbound fetch of the Worker goes to the sink, a Worker in the same workerd (one per pool
          // worker, so files running side by side do not share one); tests inspect it via SINK.
          workers: [{ name: "sink", modules: true, script: sinkScript, compatibilityDate: "2026-11-01" }],
          outboundService: "sink",
          // FIXTURES: the replay recorder's writer (test/support/replays.ts); it writes only under RECORD_REPLAYS=1.
          serviceBindings: {
            SINK: "sink",
            FIXTURES: fixtureWriter(process.env.RECORD_REPLAYS === "1"),
          },
        },
      }),
    ],
    test: {
      // One workerd per pool worker, reused for all the files it runs (not one per file): files share its
      // D1 (migrated once, emptied before each file by test/setup.ts), its objects and its module instances.
      // See docs/testing.md.
      isolate: false,
      // pdf-lib's font package imports its files without extensions (fine for wrangler's bundler, not for
      // workerd's module loader): Vite transforms it instead.
      server: { deps: { inline: [/@pdf-lib\//, /@pdfme\/pdf-lib/] } },
      // Three workers on two cores: the files that take minutes each hold one from the start (sequencer below)
      // while the rest share the third, and a file waiting (slow sink answers, timeouts) leaves its core to
      // the others. VITEST_MAX_WORKERS overrides it.
      maxWorkers: 3,
      // The few files that take minutes start first (test/support/sequencer.ts).
      sequence: { sequencer: LongFilesFirst },
      // Projects: "workers" (the Worker's tests, in workerd), "fast" (tests of pure modules: engine,
      // schemas, expressions; also in workerd, with no Worker fetch or storage), and test/node/ run in Node
      // (the epilot client round-trip against a Worker that wrangler starts; must not load the Workers
      // plugin). `npm test` runs all three; `npm run test:fast` runs "fast" and the quick Node tests.
      // test/browser/ has its own config and command (vitest.browser.config.ts, npm run test:browser).
      projects: [
        {
          extends: true,
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            setupFiles: ["./test/setup.ts"],
            exclude: ["test/node/**", "test/browser/**", "**/node_modules/**", ...FAST_TESTS],
          },
        },
        { extends: true, test: { name: "fast", include: FAST_TESTS } },
        {
          extends: false,
          test: {
            name: "node",
            environment: "node",
            include: ["test/node/**/*.test.ts"],
            testTimeout: 60_000,
            // Projects that run together must agree on it (vitest refuses otherwise).
            maxWorkers: 3,
          },
        },
      ],
    },
  };
});
