import { describe, expect, it } from "vitest";
import {
  dueFires as agentDueFires,
  nextScheduledFire as nextAgentFireAfter,
  resumedNextFire,
  scheduleSpec as agentScheduleSpec,
} from "../../../src/engine/schedule";
import { LIMITS } from "../../../src/lib/limits";

/** The pure schedule arithmetic of agents, now every schedule trigger's (engine/schedule.ts). */

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const A = at("2026-01-01T00:00:00Z");
const hourly = agentScheduleSpec({ interval: 3600, catch_up: "none" }, A);
const everyMinute = agentScheduleSpec({ cron: "* * * * *", catch_up: "all" }, 0);

describe("interval grid", () => {
  it("fires at anchor + n × interval, n ≥ 1, strictly after the given time", () => {
    expect(iso(nextAgentFireAfter(hourly, A)!)).toBe("2026-01-01T01:00:00.000Z");
    expect(iso(nextAgentFireAfter(hourly, A - 5_000)!)).toBe("2026-01-01T01:00:00.000Z");
    expect(iso(nextAgentFireAfter(hourly, A + 3_600_000)!)).toBe("2026-01-01T02:00:00.000Z");
    expect(iso(nextAgentFireAfter(hourly, A + 3_600_001)!)).toBe("2026-01-01T02:00:00.000Z");
  });

  it("due fires: the latest once, or every one up to the bound with all", () => {
    const next = A + 3_600_000;
    const now = A + 5.5 * 3_600_000;
    expect(agentDueFires(hourly, next, next - 1, "none", 10)).toBeNull();
    expect(agentDueFires(hourly, next, now, "none", 10)).toEqual({
      instants: [A + 5 * 3_600_000],
      skipped: 4,
      next: A + 6 * 3_600_000,
    });
    expect(agentDueFires(hourly, next, now, "one", 10)?.instants).toEqual([A + 5 * 3_600_000]);
    expect(agentDueFires(hourly, next, now, "all", 10)).toEqual({
      instants: [1, 2, 3, 4, 5].map((h) => A + h * 3_600_000),
      skipped: 0,
      next: A + 6 * 3_600_000,
    });
    expect(agentDueFires(hourly, next, now, "all", 2)).toEqual({
      instants: [A + 4 * 3_600_000, A + 5 * 3_600_000],
      skipped: 3,
      next: A + 6 * 3_600_000,
    });
  });
});

describe("cron", () => {
  it("all: a very late cron lists the most recent instants through croner instead of walking every one", () => {
    const next = at("2026-01-01T00:01:00Z");
    const now = at("2026-01-01T05:00:30Z"); // 300 instants due
    const due = agentDueFires(everyMinute, next, now, "all", LIMITS.MAX_AGENT_CATCHUP_RUNS)!;
    expect(due.instants.map(iso)).toEqual(
      Array.from({ length: LIMITS.MAX_AGENT_CATCHUP_RUNS }, (_, i) =>
        iso(at("2026-01-01T05:00:00Z") - (LIMITS.MAX_AGENT_CATCHUP_RUNS - 1 - i) * 60_000),
      ),
    );
    expect(due.skipped).toBeGreaterThan(0);
    expect(iso(due.next!)).toBe("2026-01-01T05:01:00.000Z");
  });

  it("all within the walk: every due instant, oldest first", () => {
    const due = agentDueFires(everyMinute, at("2026-01-01T00:01:00Z"), at("2026-01-01T00:03:10Z"), "all", 10)!;
    expect(due.instants.map(iso)).toEqual(["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z", "2026-01-01T00:03:00.000Z"]);
    expect(due.skipped).toBe(0);
  });
});

describe("resume", () => {
  const next = A + 3_600_000;
  it("keeps a next fire still ahead, whatever the policy", () => {
    for (const p of ["none", "one", "all"] as const) expect(resumedNextFire(hourly, next, A + 60_000, p)).toBe(next);
  });
  it("none drops missed instants; one and all keep them for the alarm", () => {
    const now = A + 3.5 * 3_600_000;
    expect(resumedNextFire(hourly, next, now, "none")).toBe(A + 4 * 3_600_000);
    expect(resumedNextFire(hourly, next, now, "one")).toBe(next);
    expect(resumedNextFire(hourly, next, now, "all")).toBe(next);
    expect(resumedNextFire(hourly, null, now, "all")).toBe(A + 4 * 3_600_000);
  });
});
