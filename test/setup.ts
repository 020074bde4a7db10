import { applyD1Migrations, env } from "cloudflare:test";
import { emptyTables } from "./support/d1-reset";

// Runs before each file of the "workers" project. The pool keeps one workerd per worker for every file it runs
// (vitest.config.ts, isolate: false), so D1 outlives a file: the migrations are applied once per worker
// (applyD1Migrations skips those already applied) and each file starts with empty tables (docs/testing.md).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await emptyTables(env.DB);
