/* global Response */
/**
 * The Node side of the replay recorder (test/support/replays.ts): the `FIXTURES` service binding, which
 * writes a recorded run as test/fixtures/replays/<name>.json. Tests run inside workerd, which has no file
 * system, so the write happens here, in vitest's config process (a .mjs file: the project's TypeScript
 * is typed for workerd, not Node). It writes only when recording was asked for (`RECORD_REPLAYS=1` when
 * the config loads: `npm run replays:record`); otherwise it answers `{ written: false }` and the recorder
 * only checks that the run replays.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";

/** Fixture names become file names: lower-case words joined by dashes, nothing that walks out of the folder. */
const FIXTURE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const DIR = fileURLToPath(new URL("../fixtures/replays/", import.meta.url));

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** @param {boolean} enabled @returns {(request: Request) => Promise<Response>} */
export function fixtureWriter(enabled) {
  return async (request) => {
    const name = new URL(request.url).pathname.replace(/^\/+/, "").replace(/\.json$/, "");
    if (request.method !== "PUT" || !FIXTURE_NAME.test(name)) {
      return json(400, { error: `bad fixture request: ${request.method} ${name}` });
    }
    const body = await request.text();
    try {
      JSON.parse(body);
    } catch {
      return json(400, { error: "a fixture is JSON" });
    }
    if (!enabled) return json(200, { written: false });
    const file = join(DIR, `${name}.json`);
    // Written as the formatter would, so `npm run format:check` passes on recorded fixtures.
    const options = (await resolveConfig(file)) ?? {};
    await mkdir(DIR, { recursive: true });
    await writeFile(file, await format(body, { ...options, filepath: file }));
    return json(200, { written: true, file });
  };
}
