import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { sinkControl, sinkOutbound } from "./test/support/sink.ts";
import { fixtureWriter } from "./test/support/fixture-writer.mjs";
import { buildAssets } from "./scripts/build-assets.mjs";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  // The Worker serves /console and /docs from the built assets (wrangler.toml [assets]); wrangler builds them
  // for dev and deploy, the tests here.
  await buildAssets();
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
          // Every outbound fetch of the Worker goes to the local sink; tests inspect it via SINK.
          outboundService: sinkOutbound,
          // FIXTURES: the replay recorder's writer (test/support/replays.ts); it writes only under RECORD_REPLAYS=1.
          serviceBindings: {
            SINK: sinkControl,
            FIXTURES: fixtureWriter(process.env.RECORD_REPLAYS === "1"),
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      include: ["test/**/*.test.ts"],
      // Two projects: the Workers tests (this config), and test/node/ run in Node against a Worker that
      // wrangler starts (the epilot client round-trip), which must not load the Workers plugin.
      // test/browser/ has its own config and command (vitest.browser.config.ts, npm run test:browser).
      projects: [
        {
          extends: true,
          test: {
            name: "workers",
            exclude: ["test/node/**", "test/browser/**", "**/node_modules/**"],
            // pdf-lib's font package imports its files without extensions (fine for wrangler's bundler, not for
            // workerd's module loader): Vite transforms it instead.
            server: { deps: { inline: [/@pdf-lib\//, /@pdfme\/pdf-lib/] } },
          },
        },
        { extends: false, test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"], testTimeout: 60_000 } },
      ],
    },
  };
});
