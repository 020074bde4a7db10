/**
 * The tests of pure modules (engine, schemas, expressions, templates, cron, signatures): they call functions,
 * never the Worker's fetch, D1 or an object, so they need no migrations and run in seconds. vitest.config.ts
 * runs them as the "fast" project (in workerd, like the rest; `npm test` runs them too), and `npm run test:fast`
 * runs them with the quick Node-side tests (test/node/ but the epilot client round-trip, which starts wrangler).
 * test/node/fast-tests.test.ts checks that none of them imports a binding (`cloudflare:*`). A new pure test
 * under test/engine/conditions|execution|templates is picked up by the globs; elsewhere, add it here.
 */
export const FAST_TESTS = [
  "test/engine/conditions/**/*.test.ts",
  "test/engine/execution/**/*.test.ts",
  "test/engine/templates/**/*.test.ts",
  "test/engine/custom-fields.test.ts",
  "test/engine/dry-run.test.ts",
  "test/engine/record-diff.test.ts",
  "test/engine/record-query.test.ts",
  "test/api/route-meta.test.ts",
  "test/console/graph-model.test.ts",
  "test/dialects/arrotech/agents-engine.test.ts",
  "test/lib/secrets.test.ts",
  "test/mcp/flow-input.test.ts",
  "test/schedules/cron.test.ts",
  "test/webhooks/signatures.test.ts",
];
