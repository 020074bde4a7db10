import { describe, expect, it } from "vitest";
import { advance } from "../../../src/engine/execution/advance";
import { createExecutionState, type NewExecution } from "../../../src/engine/execution/create";
import type { RunActionCommand } from "../../../src/engine/execution/types";

const base: NewExecution = {
  id: "e1",
  org_id: "o",
  entity_id: "r",
  entity: { _id: "r", name: "Ada", when: "2030-01-10T00:00:00.000Z" },
  trigger_event: { type: "manual" },
  flow: {
    id: "f",
    flow_name: "f",
    version: 1,
    actions: [{ id: "a", type: "call_webhook", config: { url: "https://x.example/{{ record.name }}" } }],
  },
};

const runOf = (cmds: { type: string }[]) => cmds.find((c): c is RunActionCommand => c.type === "run_action");

describe("advance", () => {
  it("renders the config and marks the attempt in flight before asking for the run", () => {
    const { state, commands } = advance(createExecutionState(base, 0), { type: "started" }, 10);
    const run = runOf(commands)!;
    expect(run).toMatchObject({
      action_id: "a",
      attempt: 1,
      run: 1,
      idempotency_key: "e1:a",
      config: { url: "https://x.example/Ada" },
    });
    expect(state.actions[0].in_flight).toEqual({ attempt: 1, number: 1, iteration: undefined, started_at: 10, run: 1 });
    expect(state.status).toBe("in_progress");
  });

  it("records an interrupted attempt and retries at once with the same idempotency key", () => {
    let { state } = advance(createExecutionState(base, 0), { type: "started" }, 10);
    const out = advance(state, { type: "action_interrupted", action_id: "a", attempt: 1, run: 1 }, 20);
    state = out.state;
    expect(out.commands).toContainEqual(
      expect.objectContaining({ type: "close_attempt", action_id: "a", attempt: 1, started_at: 10, outcome: "interrupted" }),
    );
    expect(state.actions[0].attempts_total).toBe(2);
    expect(runOf(out.commands)).toMatchObject({ attempt: 2, idempotency_key: "e1:a" });
  });

  it("a cancel while an attempt is in flight makes its late result a no-op", () => {
    let { state } = advance(createExecutionState(base, 0), { type: "started" }, 10);
    state = advance(state, { type: "cancelled", reason: "stop" }, 20).state;
    const late = advance(
      state,
      { type: "action_result", action_id: "a", attempt: 1, run: 1, outcome: { kind: "success", outputs: {} } },
      30,
    );
    expect(late.state.status).toBe("cancelled");
    expect(late.state.actions[0].execution_status).toBe("cancelled");
    expect(late.commands).toEqual([]);
  });

  it("a template error fails the action with TEMPLATE_ERROR and no retry", () => {
    const broken = {
      ...base,
      flow: { ...base.flow, actions: [{ id: "a", type: "call_webhook", config: { url: "{{ record.name | nosuchfilter }}" } }] },
    };
    const { state, commands } = advance(createExecutionState(broken, 0), { type: "started" }, 10);
    expect(state.status).toBe("failed");
    expect(state.actions[0].error_output?.error_code).toBe("TEMPLATE_ERROR");
    expect(commands.map((c) => c.type)).toEqual(["write_summary", "finished"]);
  });

  it("a schedule whose source date is missing fails with INVALID_SCHEDULE_CONFIG", () => {
    const flow = {
      ...base.flow,
      schedules: [
        {
          id: "s",
          numberOfUnits: 1,
          timePeriod: "days" as const,
          timeRelation: "before" as const,
          source: { id: "t", origin: "trigger" as const, attribute: "missing" },
        },
      ],
      actions: [{ id: "a", type: "call_webhook", schedule_id: "s", config: { url: "https://x.example" } }],
    };
    const { state } = advance(createExecutionState({ ...base, flow }, 0), { type: "started" }, 10);
    expect(state.actions[0].error_output?.error_code).toBe("INVALID_SCHEDULE_CONFIG");
  });

  it("months are calendar months (Jan 31 + 1 month = Feb 28)", () => {
    const flow = {
      ...base.flow,
      schedules: [
        {
          id: "s",
          numberOfUnits: 1,
          timePeriod: "months" as const,
          timeRelation: "after" as const,
          source: { id: "t", origin: "trigger" as const, attribute: "when" },
        },
      ],
      actions: [{ id: "a", type: "call_webhook", schedule_id: "s", config: { url: "https://x.example" } }],
    };
    const entity = { _id: "r", when: "2031-01-31T12:00:00.000Z" };
    const { state, commands } = advance(createExecutionState({ ...base, entity, flow }, 0), { type: "started" }, 10);
    expect(new Date(state.actions[0].scheduled_for!).toISOString()).toBe("2031-02-28T12:00:00.000Z");
    expect(commands).toContainEqual({ type: "wake_at", at: Date.parse("2031-02-28T12:00:00.000Z") });
  });
});
