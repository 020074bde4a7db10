/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { EXECUTION_STATUSES, isFinal } from "../../../src/engine/execution/types";
import { FIXTURE_FORMAT, replayLog, type ReplayFixture } from "../../support/replay-log";

/**
 * Every recorded run (test/fixtures/replays/, recorded by `npm run replays:record` from real runs through
 * the Worker, test/replays/record.test.ts) replayed through the pure engine: creation from the log's
 * `created` event, then advance() for each later event at its recorded time. The result must be the state
 * and outputs the object stored. A change to an engine rule that changes any recorded outcome fails here;
 * if the change is intended, re-record (README in the fixtures folder).
 */

const modules = import.meta.glob<ReplayFixture>("../../fixtures/replays/*.json", { eager: true, import: "default" });
const fixtures = Object.entries(modules)
  .map(([path, fixture]) => ({ file: path.split("/").pop()!, fixture }))
  .sort((a, b) => a.file.localeCompare(b.file));

/** The minimum the issue asks for (issue 13, item 4), and the scenarios it names. */
const MIN_FIXTURES = 20;
const REQUIRED = [
  "loop-allow-failure",
  "retry-backoff-then-success",
  "retry-backoff-exhausted",
  "retrigger-resume",
  "retrigger-stop",
  "retrigger-parent-condition",
  "cancel-schedule",
  "pause-resume",
  "interrupted-attempt",
  "cancel-while-scheduled",
];

describe("replay fixtures", () => {
  it(`there are at least ${MIN_FIXTURES}, covering the required scenarios, each named after its file`, () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(MIN_FIXTURES);
    const names = fixtures.map((f) => f.fixture.name);
    for (const name of REQUIRED) expect(names).toContain(name);
    for (const { file, fixture } of fixtures) {
      expect(file).toBe(`${fixture.name}.json`);
      expect(fixture.format).toBe(FIXTURE_FORMAT);
    }
  });

  it("together they end in every final status", () => {
    const ends = new Set(fixtures.map((f) => f.fixture.state.status));
    for (const s of EXECUTION_STATUSES.filter(isFinal)) expect(ends, `no fixture ends ${s}`).toContain(s);
  });

  it("a replay notices a difference: the same log with its last event a second later ends elsewhere", () => {
    const { fixture } = fixtures.find((f) => f.fixture.name === "retry-backoff-then-success")!;
    const events = fixture.events.map((e, i) => (i === fixture.events.length - 1 ? { ...e, at: e.at + 1000 } : e));
    expect(replayLog(events).state).not.toEqual(fixture.state);
  });

  it("a log that does not begin with its creation input is refused", () => {
    expect(() => replayLog(fixtures[0].fixture.events.slice(1))).toThrow(/begins with a "created" event/);
  });

  describe.each(fixtures)("$file", ({ fixture }) => {
    it("begins with its creation input and ends final", () => {
      expect(fixture.events[0].data.type).toBe("created");
      expect(fixture.events.slice(1).every((e) => e.data.type !== "created")).toBe(true);
      expect(isFinal(fixture.state.status)).toBe(true);
    });

    it("replays through advance() to the stored state and outputs", () => {
      const replayed = replayLog(fixture.events);
      expect(replayed.state).toEqual(fixture.state);
      expect(replayed.outputs).toEqual(fixture.outputs);
    });

    it("emits `finished` once per entry into a final status and `clear_retention` once per exit", () => {
      const { commands } = replayLog(fixture.events);
      const finished = commands.flat().filter((c) => c === "finished").length;
      const cleared = commands.flat().filter((c) => c === "clear_retention").length;
      // The run ends final: it entered a final status once more than it left one.
      expect(finished).toBe(cleared + 1);
    });
  });
});
