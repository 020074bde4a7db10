import { describe, expect, it } from "vitest";
import { flowControlOf } from "../../src/engine/flow-control/config";
import { rateLimitGcra, rateLimitVerdict, throttleGcra, throttleSlot } from "../../src/engine/flow-control/rates";
import { collectDueAt, planStart, renderKey, renderPriority } from "../../src/engine/flow-control/start";
import { durationMs, formatDuration, parseDuration } from "../../src/lib/duration";
import { LIMITS } from "../../src/lib/limits";
import { FlowControlSchema } from "../../src/schemas/flow-control";

/** Pure parts of issue 26: durations, the rules of a flow, keys and priority, throttle and rate-limit arithmetic, collect timing. */

describe("durations", () => {
  it("reads a whole number and a unit", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("1w")).toBe(604_800_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(" 10s ")).toBe(10_000);
  });

  it("refuses anything else", () => {
    for (const bad of ["", "s", "1.5h", "-3s", "5 min", "5min", "PT5M", "10", "1y", "1e3s"])
      expect(parseDuration(bad), bad).toBeNull();
    expect(() => durationMs("soon")).toThrow(/Not a duration/);
  });

  it("formats the shortest exact form", () => {
    expect(formatDuration(90_000)).toBe("90s");
    expect(formatDuration(7_200_000)).toBe("2h");
    expect(formatDuration(1_500)).toBe("1500ms");
    expect(formatDuration(604_800_000)).toBe("1w");
  });
});

describe("flow_control schema", () => {
  const issues = (v: unknown) => {
    const r = FlowControlSchema.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("accepts every control", () => {
    expect(
      issues({
        concurrency: [{ limit: 2, key: "{{ entity._id }}" }, { limit: 10 }],
        throttle: { limit: 10, period: "1m", burst: 2, key: "{{ trigger_event.payload.customer_id }}" },
        rate_limit: { limit: 100, period: "1h" },
        debounce: { period: "30s", max_wait: "5m", mode: "batch" },
        priority: { run: "{{ trigger_event.payload.vip | default: 0 }}" },
        singleton: { mode: "cancel_previous", key: "{{ entity._id }}" },
      }),
    ).toEqual([]);
  });

  it("names each bad field", () => {
    expect(issues({ throttle: { limit: 0, period: "1m" } })).toEqual([expect.stringMatching(/^throttle.limit:/)]);
    expect(issues({ throttle: { limit: 1, period: "1 minute" } })).toEqual([
      expect.stringMatching(/^throttle.period: must be a whole number/),
    ]);
    expect(issues({ rate_limit: { limit: 1, period: "8d" } })).toEqual([
      expect.stringMatching(/^rate_limit.period: must be between/),
    ]);
    expect(issues({ concurrency: [{ limit: 1 }, { limit: 1 }, { limit: 1 }] })).toEqual([expect.stringMatching(/^concurrency:/)]);
    expect(issues({ concurrency: [{ limit: 1, key: "{{ entity._id" }] })).toEqual([
      expect.stringMatching(/^concurrency.0.key: Invalid template/),
    ]);
    expect(issues({ debounce: { period: "1m" }, batch: { max_size: 5, timeout: "1m" } })).toEqual([
      "batch: debounce and batch both collect events: set one of them",
    ]);
    expect(issues({ debounce: { period: "5m", max_wait: "1m" } })).toEqual([
      "debounce.max_wait: must be at least the debounce period",
    ]);
    expect(issues({ batch: { max_size: LIMITS.MAX_BATCH_SIZE + 1, timeout: "1m" } })).toEqual([
      expect.stringMatching(/^batch.max_size:/),
    ]);
    expect(issues({ singleton: { mode: "latest" } })).toEqual([expect.stringMatching(/^singleton.mode:/)]);
    expect(issues({ throttle: { limit: 1, period: "1m", extra: 1 } })).toEqual([expect.stringMatching(/^throttle:.*extra/)]);
  });
});

describe("the rules of a flow", () => {
  it("none without flow control or a limit", () => {
    expect(flowControlOf({})).toBeNull();
  });

  it("concurrency_limit is the keyless first bound", () => {
    const rules = flowControlOf({
      concurrency_limit: 3,
      flow_control: { concurrency: [{ limit: 2, key: "{{ entity._id }}" }] },
    })!;
    expect(rules.concurrency).toEqual([{ limit: 3 }, { limit: 2, key: "{{ entity._id }}" }]);
  });

  it("durations in ms and defaults filled", () => {
    const rules = flowControlOf({
      flow_control: {
        throttle: { limit: 6, period: "1m" },
        debounce: { period: "30s", mode: "last" },
        singleton: { mode: "skip" },
      },
    })!;
    expect(rules.throttle).toEqual({ limit: 6, period_ms: 60_000, burst: 0 });
    expect(rules.debounce).toEqual({ period_ms: 30_000, mode: "last" });
    expect(rules.singleton).toEqual({ mode: "skip" });
  });
});

describe("keys and priority", () => {
  const ctx = { trigger_event: { payload: { customer_id: "c-7", vip: "5", n: 12.7 } }, entity: { _id: "r1", tags: ["a"] } };

  it("render over the trigger and the entity", () => {
    expect(renderKey("{{ trigger_event.payload.customer_id }}", ctx, 0)).toBe("c-7");
    expect(renderKey("{{ trigger.payload.customer_id }}-{{ entity._id }}", ctx, 0)).toBe("c-7-r1");
    expect(renderKey(undefined, ctx, 0)).toBe("");
    expect(renderKey("{{ trigger_event.missing }}", ctx, 0)).toBe("");
  });

  it("a long key is cut, never longer than the limit", () => {
    const long = { ...ctx, trigger_event: { payload: { customer_id: "x".repeat(1000) } } };
    expect(renderKey("{{ trigger_event.payload.customer_id }}", long, 0)).toHaveLength(LIMITS.MAX_FLOW_CONTROL_KEY_LENGTH);
  });

  it("priority is an integer, clamped, 0 when not a number", () => {
    expect(renderPriority("{{ trigger_event.payload.vip }}", ctx, 0)).toBe(5);
    expect(renderPriority("{{ trigger_event.payload.n }}", ctx, 0)).toBe(12);
    expect(renderPriority("-50000", ctx, 0)).toBe(-LIMITS.MAX_PRIORITY);
    expect(renderPriority("{{ entity._id }}", ctx, 0)).toBe(0);
    expect(renderPriority("{{ trigger_event.nothing }}", ctx, 0)).toBe(0);
    expect(renderPriority(undefined, ctx, 0)).toBe(0);
  });
});

describe("the plan of a start", () => {
  const ctx = { trigger_event: { payload: { c: "k1" } }, entity: null };
  const rules = flowControlOf({
    flow_control: {
      concurrency: [{ limit: 2, key: "{{ trigger_event.payload.c }}" }],
      throttle: { limit: 10, period: "1m", key: "{{ trigger_event.payload.c }}" },
      debounce: { period: "10s", mode: "batch" },
      priority: { run: "7" },
    },
  })!;

  it("an event is collected first; a direct start (or a group's own start) goes to the queue", () => {
    expect(planStart(rules, ctx, 0, true)).toMatchObject({
      collect: { kind: "debounce", key: "", period_ms: 10_000, keep: "all", max_size: LIMITS.MAX_BATCH_SIZE },
    });
    const direct = planStart(rules, ctx, 0, false);
    expect(direct.collect).toBeUndefined();
    expect(direct.queue).toEqual({
      concurrency: [{ key: "k1", limit: 2 }],
      throttle: { key: "k1", gcra: { interval_ms: 6_000, tolerance_ms: 0 } },
      priority: 7,
    });
    expect(direct.keys).toEqual({ concurrency: "k1", throttle: "k1" });
  });

  it("priority alone needs no queue", () => {
    const only = flowControlOf({ flow_control: { priority: { run: "1" } } })!;
    expect(planStart(only, ctx, 0, true)).toEqual({ keys: {} });
  });
});

describe("throttle arithmetic (GCRA)", () => {
  it("spaces starts period/limit apart; burst more go back to back", () => {
    const g = throttleGcra({ limit: 6, period_ms: 60_000, burst: 0 });
    let tat: number | null = null;
    const starts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const slot = throttleSlot(tat, 1_000, g);
      starts.push(slot.start_at);
      tat = slot.tat;
    }
    expect(starts).toEqual([1_000, 11_000, 21_000, 31_000, 41_000, 51_000, 61_000, 71_000]);
    const burst = throttleGcra({ limit: 6, period_ms: 60_000, burst: 2 });
    tat = null;
    const bursty: number[] = [];
    for (let i = 0; i < 5; i++) {
      const slot = throttleSlot(tat, 0, burst);
      bursty.push(slot.start_at);
      tat = slot.tat;
    }
    expect(bursty).toEqual([0, 0, 0, 10_000, 20_000]);
  });

  it("never more than limit + burst starts in any window of one period", () => {
    for (const [limit, burst] of [
      [3, 0],
      [5, 2],
      [1, 0],
      [7, 3],
    ]) {
      const period = 60_000;
      const g = throttleGcra({ limit, period_ms: period, burst });
      let tat: number | null = null;
      const starts: number[] = [];
      let now = 0;
      for (let i = 0; i < 60; i++) {
        now += (i * 7919) % 13_000; // irregular arrivals
        const slot = throttleSlot(tat, now, g);
        starts.push(slot.start_at);
        tat = slot.tat;
      }
      for (const s of starts) expect(starts.filter((t) => t >= s && t < s + period).length).toBeLessThanOrEqual(limit + burst);
      // FIFO: each start no earlier than the one before.
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    }
  });

  it("an idle key starts at once again", () => {
    const g = throttleGcra({ limit: 2, period_ms: 10_000, burst: 0 });
    const first = throttleSlot(null, 0, g);
    expect(throttleSlot(first.tat, 100_000, g).start_at).toBe(100_000);
  });
});

describe("rate limit arithmetic", () => {
  it("limit at once, then one per period/limit; a refused start takes nothing", () => {
    const g = rateLimitGcra({ limit: 3, period_ms: 30_000 });
    let tat: number | null = null;
    const allowed: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const v = rateLimitVerdict(tat, 0, g);
      allowed.push(v.allowed);
      tat = v.tat;
    }
    expect(allowed).toEqual([true, true, true, false, false]);
    expect(rateLimitVerdict(tat, 9_999, g).allowed).toBe(false);
    expect(rateLimitVerdict(tat, 10_000, g).allowed).toBe(true);
  });
});

describe("collect timing", () => {
  it("debounce: the quiet period after the last event, capped by max_wait from the first", () => {
    expect(collectDueAt({ kind: "debounce", period_ms: 10_000 }, 0, 25_000)).toBe(35_000);
    expect(collectDueAt({ kind: "debounce", period_ms: 10_000, max_wait_ms: 30_000 }, 0, 25_000)).toBe(30_000);
  });

  it("batch: the timeout from the first event", () => {
    expect(collectDueAt({ kind: "batch", period_ms: 60_000 }, 5_000, 50_000)).toBe(65_000);
  });
});
