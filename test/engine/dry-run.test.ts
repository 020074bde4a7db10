import { afterEach, describe, expect, it } from "vitest";
import { dryRun } from "../../src/engine/dry-run";
import type { NewExecution } from "../../src/engine/execution/create";
import type { FlowSnapshot } from "../../src/engine/execution/types";
import { LIMITS } from "../../src/lib/limits";

/** The pure dry run, rule by rule: each case is one flow, previewed at a fixed clock. */

const NOW = Date.parse("2030-03-01T09:00:00.000Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

function input(
  flow: Partial<FlowSnapshot>,
  entity: Record<string, unknown> = {},
  trigger: Record<string, unknown> = {},
): NewExecution {
  return {
    id: "dry-run",
    org_id: "o",
    entity_id: "r",
    entity: { _id: "r", ...entity },
    trigger_event: { type: "manual", ...trigger },
    flow: { id: "f", flow_name: "f", version: 1, actions: [], ...flow },
  };
}

const hook = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "call_webhook",
  config: { url: `https://x.example/${id}` },
  ...extra,
});

const bigDeal = {
  id: "big",
  statements: [
    { source: { origin: "trigger", attribute: "value", attributeType: "number" }, operation: "greater_than", values: ["1000"] },
  ],
};

describe("dry run: conditions", () => {
  it("runs actions whose condition passes and skips the others, with the statements", () => {
    const flow = {
      conditions: [{ field: "stage", operator: "equals", value: "won" }, bigDeal],
      actions: [hook("always"), hook("vip", { condition_id: "big" })],
    };
    const small = dryRun(input(flow, { stage: "won", value: 50 }), NOW);
    expect(small).toMatchObject({ would_execute: true, conditions_passed: false, status: "success", complete: true });
    expect(small.conditions_evaluated.map((s) => [s.operator, s.passed])).toEqual([
      ["equals", true],
      ["greater_than", false],
    ]);
    expect(small.actions_preview[0]).toMatchObject({ would_run: true, status: "success", runs_at: iso(NOW) });
    expect(small.actions_preview[1]).toMatchObject({
      would_run: false,
      status: "skipped",
      skip_reason: "Condition big was not met",
      condition: { condition_id: "big", passed: false },
    });
    expect(small.actions_preview[1].rendered_config).toBeUndefined();

    const large = dryRun(input(flow, { stage: "won", value: 5000 }), NOW);
    expect(large.conditions_passed).toBe(true);
    expect(large.actions_preview.map((p) => p.would_run)).toEqual([true, true]);
    expect(large.actions_preview[1].rendered_config).toEqual({ url: "https://x.example/vip" });
  });

  it("a failing flow-level (Coherence) condition skips every action and ends skipped", () => {
    const res = dryRun(
      input(
        { conditions: [{ field: "stage", operator: "equals", value: "won" }], actions: [hook("a"), hook("b")] },
        { stage: "open" },
      ),
      NOW,
    );
    expect(res).toMatchObject({ would_execute: false, conditions_passed: false, status: "skipped", complete: true });
    expect(res.conditions_evaluated[0]).toMatchObject({ operator: "equals", passed: false, actual_value: "open" });
    for (const p of res.actions_preview) {
      expect(p).toMatchObject({ would_run: false, status: "skipped", skip_reason: "The flow's conditions were not met" });
    }
  });

  it("an unknown condition id fails the action and skips the rest, as a run does", () => {
    const res = dryRun(input({ actions: [hook("a", { condition_id: "nope" }), hook("b")] }), NOW);
    expect(res.status).toBe("failed");
    expect(res.actions_preview[0]).toMatchObject({
      would_run: false,
      status: "failed",
      error: { error_code: "BAD_CONFIG", error_reason: "Unknown condition nope" },
    });
    expect(res.actions_preview[1]).toMatchObject({ would_run: false, skip_reason: "Skipped because action a failed" });
  });
});

describe("dry run: schedules and delays", () => {
  it("shows a schedule's due time and runs the action then, instead of waiting", () => {
    const res = dryRun(
      input(
        {
          schedules: [
            { id: "in2d", numberOfUnits: 2, timePeriod: "days", timeRelation: "after", source: { id: "t", origin: "trigger" } },
            {
              id: "past",
              numberOfUnits: 1,
              timePeriod: "days",
              timeRelation: "after",
              source: { id: "t", origin: "trigger", attribute: "signed" },
            },
          ],
          actions: [hook("old", { schedule_id: "past" }), hook("later", { schedule_id: "in2d" }), hook("last")],
        },
        { signed: "2001-01-01T00:00:00.000Z" },
      ),
      NOW,
    );
    expect(res.complete).toBe(true);
    // A due time in the past is shown as the run computes it; the action runs at once.
    expect(res.actions_preview[0]).toMatchObject({ scheduled_for: "2001-01-02T00:00:00.000Z", runs_at: iso(NOW) });
    expect(res.actions_preview[1]).toMatchObject({
      would_run: true,
      scheduled_for: iso(NOW + 2 * DAY),
      runs_at: iso(NOW + 2 * DAY),
    });
    expect(res.actions_preview[2]).toMatchObject({ would_run: true, runs_at: iso(NOW + 2 * DAY) });
    expect(res.finishes_at).toBe(iso(NOW + 2 * DAY));
  });

  it("a schedule whose date is missing fails the action with INVALID_SCHEDULE_CONFIG", () => {
    const res = dryRun(
      input({
        schedules: [
          {
            id: "s",
            numberOfUnits: 1,
            timePeriod: "days",
            timeRelation: "before",
            source: { id: "t", origin: "trigger", attribute: "end" },
          },
        ],
        actions: [hook("a", { schedule_id: "s" })],
      }),
      NOW,
    );
    expect(res.status).toBe("failed");
    expect(res.actions_preview[0]).toMatchObject({ would_run: false, error: { error_code: "INVALID_SCHEDULE_CONFIG" } });
  });

  it("a delay waits on the simulated clock; a schedule after it counts from its end", () => {
    const res = dryRun(
      input(
        {
          schedules: [
            { id: "s", numberOfUnits: 10, timePeriod: "minutes", timeRelation: "after", source: { id: "d", origin: "action" } },
          ],
          actions: [
            { id: "d", type: "delay", config: { duration: "{{ record.hours }}", unit: "hours" } },
            hook("after", { schedule_id: "s" }),
          ],
        },
        { hours: 2 },
      ),
      NOW,
    );
    expect(res.actions_preview[0]).toMatchObject({
      would_run: true,
      status: "success",
      rendered_config: { duration: 2, unit: "hours" }, // a lone expression keeps its type
      runs_at: iso(NOW),
      waits_until: iso(NOW + 2 * HOUR),
    });
    expect(res.actions_preview[1]).toMatchObject({
      scheduled_for: iso(NOW + 2 * HOUR + 10 * MIN),
      runs_at: iso(NOW + 2 * HOUR + 10 * MIN),
    });
    expect(res.finishes_at).toBe(iso(NOW + 2 * HOUR + 10 * MIN));
  });

  it("a delay whose rendered config is invalid fails with BAD_CONFIG, as its handler would", () => {
    const res = dryRun(
      input({ actions: [{ id: "d", type: "delay", config: { duration: "{{ record.days }}", unit: "days" } }] }, { days: 30 }),
      NOW,
    );
    expect(res.status).toBe("failed");
    expect(res.actions_preview[0]).toMatchObject({ would_run: true, status: "failed", error: { error_code: "BAD_CONFIG" } });
    expect(res.actions_preview[0].waits_until).toBeUndefined();
  });
});

describe("dry run: loops", () => {
  it("counts the items of a loop over the entity and renders its first iteration", () => {
    const items = [{ sku: "a" }, { sku: "b" }, { sku: "c" }];
    for (const source_path of ["items", "entity.items"]) {
      const res = dryRun(
        input(
          {
            loops: [{ id: "each", source_path }],
            actions: [
              {
                id: "per",
                type: "call_webhook",
                loop_id: "each",
                config: { url: "https://x.example/{{ loop.item.sku }}", body: { i: "{{ loop.index }}" } },
              },
              hook("next"),
            ],
          },
          { items },
        ),
        NOW,
      );
      expect(res.actions_preview[0]).toMatchObject({
        would_run: true,
        status: "success",
        loop_items: 3,
        rendered_config: { url: "https://x.example/a", body: { i: 0 } },
      });
      expect(res.actions_preview[0].note).toBeUndefined();
      expect(res.actions_preview[1].would_run).toBe(true);
    }
  });

  it("a loop over no items succeeds without a call", () => {
    const res = dryRun(
      input({ loops: [{ id: "each", source_path: "items" }], actions: [hook("per", { loop_id: "each" })] }, { items: [] }),
      NOW,
    );
    expect(res.actions_preview[0]).toMatchObject({ would_run: true, status: "success", loop_items: 0 });
    expect(res.actions_preview[0].rendered_config).toBeUndefined();
  });

  it("a loop over an earlier action's outputs says so, and previews its items from sample outputs", () => {
    const flow = {
      loops: [{ id: "rows", source_path: "actions.fetch.outputs.body.rows" }],
      actions: [
        hook("fetch"),
        { id: "per", type: "call_webhook", loop_id: "rows", config: { url: "https://x.example/{{ loop.item.n }}" } },
      ],
    };
    const blind = dryRun(input(flow), NOW);
    expect(blind.status).toBe("failed");
    expect(blind.actions_preview[1]).toMatchObject({ would_run: false, error: { error_code: "INVALID_PAYLOAD" } });
    expect(blind.actions_preview[1].note).toContain("outputs.fetch");

    const sampled = dryRun(input(flow), NOW, { outputs: { fetch: { body: { rows: [{ n: 7 }, { n: 8 }] } } } });
    expect(sampled.status).toBe("success");
    expect(sampled.actions_preview[1]).toMatchObject({
      would_run: true,
      loop_items: 2,
      rendered_config: { url: "https://x.example/7" },
    });
    expect(sampled.actions_preview[1].note).toBeUndefined();
  });
});

describe("dry run: outcomes and bounds", () => {
  it("later templates see the synthetic outputs of earlier actions", () => {
    const res = dryRun(
      input({
        actions: [
          hook("a"),
          {
            id: "b",
            type: "call_webhook",
            config: { url: "https://x.example/{{ actions.a.outputs.config.url | size }}/{{ actions.a.outputs.dry_run }}" },
          },
        ],
      }),
      NOW,
    );
    expect(res.actions_preview[1].rendered_config).toEqual({ url: `https://x.example/${"https://x.example/a".length}/true` });
  });

  it("a template error fails the action with the reason, nothing is called", () => {
    const res = dryRun(
      input({ actions: [{ id: "a", type: "call_webhook", config: { url: "{{ record.name | nosuchfilter }}" } }] }),
      NOW,
    );
    expect(res.actions_preview[0]).toMatchObject({ would_run: false, status: "failed", error: { error_code: "TEMPLATE_ERROR" } });
    expect(res.actions_preview[0].template_error).toContain("nosuchfilter");
  });

  it("cancel-flow-execution cancels the rest of the run", () => {
    const res = dryRun(
      input({ actions: [hook("a"), { id: "stop", type: "cancel-flow-execution", config: {} }, hook("b")] }),
      NOW,
    );
    expect(res.status).toBe("cancelled");
    expect(res.actions_preview.map((p) => [p.would_run, p.status])).toEqual([
      [true, "success"],
      [true, "success"],
      [false, "cancelled"],
    ]);
    expect(res.actions_preview[2].skip_reason).toBe("The execution would be cancelled before this action");
  });

  describe("the step limit", () => {
    const limits = LIMITS as unknown as { MAX_DRY_RUN_STEPS: number };
    const saved = limits.MAX_DRY_RUN_STEPS;
    afterEach(() => {
      limits.MAX_DRY_RUN_STEPS = saved;
    });

    it("stops a long simulation and says which actions were not reached", () => {
      limits.MAX_DRY_RUN_STEPS = 3; // the first wake (a runs), a answers (b runs), b answers (c runs)
      const res = dryRun(input({ actions: [hook("a"), hook("b"), hook("c"), hook("d")] }), NOW);
      expect(res.complete).toBe(false);
      expect(res.would_execute).toBe(true);
      expect(res.finishes_at).toBeUndefined();
      expect(res.actions_preview.map((p) => p.would_run)).toEqual([true, true, true, false]);
      expect(res.actions_preview[3].skip_reason).toBe("Not reached: the dry run stops after 3 steps");
    });
  });

  it("previews a loop of MAX_LOOP_ITEMS items in full, within the step limit", () => {
    const items = Array.from({ length: LIMITS.MAX_LOOP_ITEMS }, (_, i) => ({ i }));
    const res = dryRun(
      input({ loops: [{ id: "l", source_path: "items" }], actions: [hook("a", { loop_id: "l" }), hook("b")] }, { items }),
      NOW,
    );
    expect(res).toMatchObject({ complete: true, status: "success" });
    expect(res.actions_preview.map((p) => [p.would_run, p.loop_items])).toEqual([
      [true, LIMITS.MAX_LOOP_ITEMS],
      [true, undefined],
    ]);
  });

  it("a hot execution runs nothing", () => {
    const res = dryRun({ ...input({ actions: [hook("a")] }), hot: { message: "The flow is hot" } }, NOW);
    expect(res).toMatchObject({ status: "hot", complete: true, would_execute: false });
    expect(res.actions_preview[0]).toMatchObject({ would_run: false, status: "skipped", skip_reason: "The flow is hot" });
  });

  it("is deterministic and leaves its input alone", () => {
    const exec = input({ loops: [{ id: "l", source_path: "items" }], actions: [hook("a", { loop_id: "l" })] }, { items: [1, 2] });
    const before = JSON.stringify(exec);
    expect(JSON.stringify(dryRun(exec, NOW))).toBe(JSON.stringify(dryRun(exec, NOW)));
    expect(JSON.stringify(exec)).toBe(before);
  });
});
