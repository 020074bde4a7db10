/**
 * vitest.browser.config.ts's globalSetup: gives the run a registry directory of running engines (see
 * support/engine.ts) and, when the run ends, stops every engine still listed, so that a crashed or timed-out
 * test file leaves no workerd behind. Scoped to this run: other runs on the machine have their own.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveProcessesInGroup, REGISTRY_ENV, stopGroup } from "./engine.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const registry = await mkdtemp(join(tmpdir(), "engine-browser-registry-"));
  // Set before the test workers start, which inherit it.
  process.env[REGISTRY_ENV] = registry;

  return async function teardown() {
    const left: string[] = [];
    for (const name of await readdir(registry)) {
      const pgid = Number(name);
      const persistDir = await readFile(join(registry, name), "utf8");
      // The group must still be that engine (its processes name its database directory), not a reused id.
      if (liveProcessesInGroup(pgid).some((p) => p.includes(persistDir))) {
        left.push(`engine ${pgid} (${persistDir}) was not stopped by its test file: stopping it`);
        const survivors = await stopGroup(pgid);
        if (survivors.length > 0) left.push(...survivors);
      }
      await rm(persistDir, { recursive: true, force: true });
    }
    await rm(registry, { recursive: true, force: true });
    if (left.length > 0) console.warn(left.join("\n"));
  };
}
