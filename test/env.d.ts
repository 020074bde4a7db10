import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      SINK: Fetcher;
      /** Writes replay fixtures (test/support/fixture-writer.ts); a no-op unless RECORD_REPLAYS=1. */
      FIXTURES: Fetcher;
    }
  }
}
export {};
