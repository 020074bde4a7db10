/**
 * Records a finished run as a replay fixture (test/fixtures/replays/README.md). Always checks first that
 * the run's log replays through the pure engine to the state and outputs its object stored; the file
 * is written only under `npm run replays:record` (RECORD_REPLAYS=1), by the Node-side FIXTURES binding.
 */

import { env } from "cloudflare:test";
import { expect } from "vitest";
import { isFinal } from "../../src/engine/execution/types";
import { executionStub } from "./engine";
import { FIXTURE_FORMAT, asStored, replayLog, type ReplayFixture } from "./replay-log";

export async function recordReplay(executionId: string, name: string, description: string): Promise<ReplayFixture> {
  const exported = (await executionStub(executionId).exportLog()) as unknown as Omit<
    ReplayFixture,
    "format" | "name" | "description" | "recorded_at"
  > | null;
  expect(exported, `execution ${executionId} has no log to export`).not.toBeNull();
  const fixture: ReplayFixture = {
    format: FIXTURE_FORMAT,
    name,
    description,
    recorded_at: new Date().toISOString(),
    events: exported!.events,
    state: asStored(exported!.state),
    outputs: asStored(exported!.outputs),
  };
  expect(isFinal(fixture.state.status), `${name}: only a finished run is a fixture (it is ${fixture.state.status})`).toBe(true);
  const replayed = replayLog(fixture.events);
  expect(replayed.state, `${name}: the replayed state differs from the stored one`).toEqual(fixture.state);
  expect(replayed.outputs, `${name}: the replayed outputs differ from the stored ones`).toEqual(fixture.outputs);

  const res = await env.FIXTURES.fetch(`http://fixtures/${name}.json`, { method: "PUT", body: JSON.stringify(fixture) });
  expect(res.status, await res.clone().text()).toBe(200);
  return fixture;
}
