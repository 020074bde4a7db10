import { describe, expect, it } from "vitest";
import {
  MAX_CATCHUP_STEPS,
  dueFire,
  earliestFire,
  nextFireAfter,
  sameTriggerSet,
  scheduleEventId,
  scheduleTriggersOf,
} from "../../src/engine/cron";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The next `n` fires after `from`, walking nextFireAfter like the object does. */
function walk(cron: string, timezone: string | undefined, from: string, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let cur = at(from);
  for (let i = 0; i < n; i++) {
    const next = nextFireAfter({ cron, timezone }, cur);
    out.push(iso(next));
    if (next === null) break;
    cur = next;
  }
  return out;
}

describe("nextFireAfter (croner)", () => {
  it("0 9 * * * Europe/Berlin: 08:00Z in winter time, 07:00Z from the 2026-03-29 spring-forward day on", () => {
    expect(walk("0 9 * * *", "Europe/Berlin", "2026-03-27T08:00:00Z", 4)).toEqual([
      "2026-03-28T08:00:00.000Z",
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
      "2026-03-31T07:00:00.000Z",
    ]);
  });

  it("is strictly after `after`: an instant exactly on a fire gives the following one", () => {
    expect(iso(nextFireAfter({ cron: "0 9 * * *" }, at("2026-01-05T09:00:00Z")))).toBe("2026-01-06T09:00:00.000Z");
    expect(iso(nextFireAfter({ cron: "0 9 * * *" }, at("2026-01-05T08:59:59.999Z")))).toBe("2026-01-05T09:00:00.000Z");
  });

  it("30 2 * * * Europe/Berlin on the spring-forward day (02:30 does not exist): croner runs it at 03:00 CEST, once", () => {
    expect(walk("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 3)).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // the first valid time after the gap: 03:00 CEST
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("30 2 * * * Europe/Berlin on the fall-back day (02:30 occurs twice): croner runs it once, at the first pass", () => {
    expect(walk("30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", 3)).toEqual([
      "2026-10-24T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST (first pass); 01:30Z (02:30 CET) is not a fire
      "2026-10-26T01:30:00.000Z", // 02:30 CET
    ]);
  });

  it("an interval job (*/30 2 * * *) runs on both passes of the repeated hour and skips the gap", () => {
    expect(walk("*/30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 5)).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-26T01:00:00.000Z",
    ]);
    // 2026-03-29 has no 02:xx in Berlin: straight from the 28th to the 30th.
    expect(walk("*/30 2 * * *", "Europe/Berlin", "2026-03-28T01:30:00Z", 2)).toEqual([
      "2026-03-30T00:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  it("6-field crons have second precision; UTC when no zone is given", () => {
    expect(walk("*/20 * * * * *", undefined, "2026-01-01T00:00:05Z", 4)).toEqual([
      "2026-01-01T00:00:20.000Z",
      "2026-01-01T00:00:40.000Z",
      "2026-01-01T00:01:00.000Z",
      "2026-01-01T00:01:20.000Z",
    ]);
    expect(walk("15 0 12 * * 1", undefined, "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-05T12:00:15.000Z"]);
  });

  it("null for an expression that never fires again or does not parse", () => {
    expect(nextFireAfter({ cron: "0 0 30 2 *" }, at("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextFireAfter({ cron: "not a cron" }, 0)).toBeNull();
    expect(nextFireAfter({ cron: "0 9 * * *", timezone: "Mars/Olympus" }, 0)).toBeNull();
  });
});

describe("dueFire", () => {
  const daily = { cron: "0 9 * * *", timezone: "Europe/Berlin" };

  it("nothing while the next fire is ahead; exactly on time fires that instant", () => {
    expect(dueFire(daily, at("2026-03-28T08:00:00Z"), at("2026-03-28T07:59:59.999Z"))).toBeNull();
    expect(dueFire(daily, at("2026-03-28T08:00:00Z"), at("2026-03-28T08:00:00Z"))).toEqual({
      instant: at("2026-03-28T08:00:00Z"),
      skipped: 0,
      next: at("2026-03-29T07:00:00Z"),
    });
  });

  it("a late alarm fires once, for the most recent due instant, and counts what it skipped", () => {
    expect(dueFire(daily, at("2026-03-28T08:00:00Z"), at("2026-03-30T12:00:00Z"))).toEqual({
      instant: at("2026-03-30T07:00:00Z"),
      skipped: 2,
      next: at("2026-03-31T07:00:00Z"),
    });
  });

  it("very late with a frequent cron: jumps to the last instant with croner instead of walking every one", () => {
    const everySecond = { cron: "* * * * * *" };
    const due = dueFire(everySecond, at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00.500Z"))!;
    expect(iso(due.instant)).toBe("2026-01-02T00:00:00.000Z");
    expect(iso(due.next)).toBe("2026-01-02T00:00:01.000Z");
    expect(due.skipped).toBeGreaterThan(MAX_CATCHUP_STEPS);
  });
});

describe("trigger sets", () => {
  it("scheduleTriggersOf keeps schedule triggers only", () => {
    expect(
      scheduleTriggersOf({
        triggers: [
          { id: "m", type: "manual" },
          { id: "s1", type: "schedule", configuration: { cron: "0 9 * * *", timezone: "Europe/Berlin" } },
          { id: "s2", type: "schedule", configuration: { cron: "*/5 * * * * *" } },
          { id: "bad", type: "schedule", configuration: {} },
        ],
      }),
    ).toEqual([
      { trigger_id: "s1", cron: "0 9 * * *", timezone: "Europe/Berlin" },
      { trigger_id: "s2", cron: "*/5 * * * * *" },
    ]);
  });

  it("sameTriggerSet compares ids, crons and zones, not order", () => {
    const a = { trigger_id: "a", cron: "0 9 * * *" };
    const b = { trigger_id: "b", cron: "0 9 * * *", timezone: "Europe/Berlin" };
    expect(sameTriggerSet([a, b], [b, a])).toBe(true);
    expect(sameTriggerSet([a, b], [a])).toBe(false);
    expect(sameTriggerSet([a], [{ ...a, cron: "0 10 * * *" }])).toBe(false);
    expect(sameTriggerSet([b], [{ ...b, timezone: "UTC" }])).toBe(false);
    expect(sameTriggerSet([b], [{ trigger_id: "b", cron: "0 9 * * *" }])).toBe(false);
  });

  it("earliestFire and the event id", () => {
    expect(earliestFire([null, 5, 3, null])).toBe(3);
    expect(earliestFire([null])).toBeNull();
    expect(scheduleEventId("f", "t", at("2026-03-29T07:00:00Z"))).toBe("cron:f:t:2026-03-29T07:00:00.000Z");
  });
});
