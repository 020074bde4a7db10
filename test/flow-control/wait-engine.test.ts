import { describe, expect, it } from "vitest";
import { advance } from "../../src/engine/execution/advance";
import { createExecutionState, type NewExecution } from "../../src/engine/execution/create";
import { MemoryExecutionData } from "../../src/engine/execution/data";
import type { Command, EngineEvent, EventWaitState, ExecutionState, RunActionCommand } from "../../src/engine/execution/types";
import { matchText, specAccepts } from "../../src/engine/event-waits";

/** wait_for_event in the pure engine: begin, index, lookback, delivery, any/all, timeout, cancel. */

const flowOf = (): NewExecution => ({
  id: "e1",
  org_id: "o",
  entity_id: "r",
  entity: { _id: "r", order_id: "o-1" },
  trigger_event: { type: "manual" },
  flow: {
    id: "f",
    flow_name: "f",
    version: 1,
    actions: [
      { id: "w", type: "wait_for_event", config: {} },
      { id: "after", type: "call_webhook", config: { url: "https://x.example/{{ actions.w.outputs.event.payload.order_id }}" } },
    ],
  },
});

const paid = (order: string, at = "2030-01-01T00:00:10.000Z", extra: Record<string, unknown> = {}) => ({
  type: "event",
  name: "order.paid",
  event_name: "order.paid",
  payload: { order_id: order, amount: 50, ...extra },
  at,
});

const T0 = Date.parse("2030-01-01T00:00:00.000Z");

class Run {
  state: ExecutionState;
  data = new MemoryExecutionData();
  last: Command[] = [];
  constructor() {
    this.state = createExecutionState(flowOf(), T0);
  }
  step(event: EngineEvent, now: number): Command[] {
    const out = advance(this.state, event, now, this.data);
    this.data.apply(out.commands);
    this.state = out.state;
    this.last = out.commands;
    return out.commands;
  }
  /** Starts, runs the wait action and returns its result's commands. */
  wait(wait: Partial<EventWaitState>): Command[] {
    const cmds = this.step({ type: "started" }, T0);
    const run = cmds.find((c): c is RunActionCommand => c.type === "run_action")!;
    const full = {
      specs: [{ event: "order.paid", correlate: { event_path: "payload.order_id", value: "o-1" } }],
      mode: "any" as const,
      single: true,
      since: T0,
      until: T0 + 3_600_000,
      on_timeout: "continue" as const,
      ...wait,
    };
    return this.step(
      { type: "action_result", action_id: "w", attempt: 1, run: run.run, outcome: { kind: "wait_event", wait: full } },
      T0,
    );
  }
}

const types = (cmds: Command[]) => cmds.map((c) => c.type);

describe("wait_for_event in the engine", () => {
  it("pauses, asks for the index (with a wake-up now in case that step dies), then waits until the timeout", () => {
    const r = new Run();
    const cmds = r.wait({});
    expect(r.state.status).toBe("paused");
    expect(r.state.actions[0].execution_status).toBe("paused");
    expect(cmds).toContainEqual(expect.objectContaining({ type: "register_wait", action_id: "w" }));
    expect(cmds).toContainEqual({ type: "wake_at", at: T0 });
    const registered = r.step({ type: "wait_registered", action_id: "w", matches: [] }, T0 + 5);
    expect(registered).toContainEqual({ type: "wake_at", at: T0 + 3_600_000 });
    expect(types(registered)).not.toContain("register_wait");
    // A wake before the timeout changes nothing but the wake-up.
    const woken = r.step({ type: "wake" }, T0 + 60_000);
    expect(r.state.status).toBe("paused");
    expect(woken).toEqual([{ type: "wake_at", at: T0 + 3_600_000 }]);
  });

  it("a matching event ends the wait with {event}; the next action runs with it", () => {
    const r = new Run();
    r.wait({});
    r.step({ type: "wait_registered", action_id: "w", matches: [] }, T0 + 5);
    const cmds = r.step({ type: "event_received", action_id: "w", spec: 0, event: paid("o-1") }, T0 + 10_000);
    expect(r.state.actions[0].execution_status).toBe("success");
    expect(r.data.output("w")).toEqual({ event: paid("o-1") });
    expect(cmds).toContainEqual({ type: "clear_wait", action_id: "w" });
    const run = cmds.find((c): c is RunActionCommand => c.type === "run_action")!;
    expect(run.config.url).toBe("https://x.example/o-1");
    expect(r.state.status).toBe("in_progress");
  });

  it("an event that does not match (other value, failed `if`, before `since`) changes nothing", () => {
    const r = new Run();
    r.wait({
      specs: [
        {
          event: "order.paid",
          correlate: { event_path: "payload.order_id", value: "o-1" },
          if: [{ field: "payload.amount", operator: "greater_than", value: 10 }],
        },
      ],
      since: T0 - 1_000,
    });
    r.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    for (const e of [paid("o-2"), paid("o-1", undefined, { amount: 5 }), paid("o-1", "2029-12-31T23:59:58.000Z")]) {
      r.step({ type: "event_received", action_id: "w", spec: 0, event: e }, T0 + 1);
      expect(r.state.actions[0].execution_status).toBe("paused");
    }
    r.step({ type: "event_received", action_id: "w", spec: 0, event: paid("o-1", "2029-12-31T23:59:59.500Z") }, T0 + 2);
    expect(r.state.actions[0].execution_status).toBe("success");
  });

  it("the lookback's events count: a match found at registration ends the wait at once", () => {
    const r = new Run();
    r.wait({ since: T0 - 60_000 });
    const cmds = r.step(
      { type: "wait_registered", action_id: "w", matches: [{ spec: 0, event: paid("o-1", "2029-12-31T23:59:30.000Z") }] },
      T0,
    );
    expect(r.state.actions[0].execution_status).toBe("success");
    expect(types(cmds)).toContain("run_action");
  });

  it("mode all waits for one event of each spec and outputs {events} in spec order; any takes the first", () => {
    const specs = [
      { event: "order.paid", correlate: { event_path: "payload.order_id", value: "o-1" } },
      { event: "order.shipped", correlate: { event_path: "payload.order_id", value: "o-1" } },
    ];
    const shipped = { ...paid("o-1"), name: "order.shipped", event_name: "order.shipped" };
    const all = new Run();
    all.wait({ specs, mode: "all", single: false });
    all.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    all.step({ type: "event_received", action_id: "w", spec: 1, event: shipped }, T0 + 1);
    expect(all.state.actions[0].execution_status).toBe("paused");
    expect(all.state.actions[0].event_wait?.matched).toEqual([1]);
    // The same spec again changes nothing.
    all.step({ type: "event_received", action_id: "w", spec: 1, event: shipped }, T0 + 2);
    expect(all.state.actions[0].event_wait?.matched).toEqual([1]);
    all.step({ type: "event_received", action_id: "w", spec: 0, event: paid("o-1") }, T0 + 3);
    expect(all.state.actions[0].execution_status).toBe("success");
    expect(all.data.output("w")).toEqual({ events: [paid("o-1"), shipped] });

    const any = new Run();
    any.wait({ specs, mode: "any", single: false });
    any.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    any.step({ type: "event_received", action_id: "w", spec: 1, event: shipped }, T0 + 1);
    expect(any.data.output("w")).toEqual({ events: [shipped] });
  });

  it("no event before the timeout: {timed_out: true} (continue) or TIMEOUT_ERROR (fail)", () => {
    const cont = new Run();
    cont.wait({});
    cont.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    const cmds = cont.step({ type: "wake" }, T0 + 3_600_000);
    expect(cont.data.output("w")).toEqual({ timed_out: true });
    expect(cmds).toContainEqual({ type: "clear_wait", action_id: "w" });
    expect(types(cmds)).toContain("run_action");

    const fail = new Run();
    fail.wait({ on_timeout: "fail" });
    fail.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    fail.step({ type: "wake" }, T0 + 3_600_001);
    expect(fail.state.status).toBe("failed");
    expect(fail.state.actions[0].error_output?.error_code).toBe("TIMEOUT_ERROR");
    expect(fail.state.actions[1].execution_status).toBe("skipped");
    // A late event for an ended wait changes nothing.
    const late = fail.step({ type: "event_received", action_id: "w", spec: 0, event: paid("o-1") }, T0 + 3_600_002);
    expect(late.filter((c) => c.type !== "write_summary")).toEqual([]);
  });

  it("a cancel takes the wait out of the index; a resume token cannot resume it", () => {
    const r = new Run();
    r.wait({});
    r.step({ type: "wait_registered", action_id: "w", matches: [] }, T0);
    const cmds = r.step({ type: "cancelled", reason: "stop" }, T0 + 1);
    expect(cmds).toContainEqual({ type: "clear_wait", action_id: "w" });
    expect(r.state.status).toBe("cancelled");
  });

  it("a wait that was never indexed (its step died) is indexed again on the next wake", () => {
    const r = new Run();
    r.wait({});
    const cmds = r.step({ type: "wake" }, T0 + 1_000);
    expect(types(cmds)).toContain("register_wait");
  });
});

describe("event matching", () => {
  it("compares values as text", () => {
    expect(matchText(42)).toBe("42");
    expect(matchText(true)).toBe("true");
    expect(matchText({ a: 1 })).toBe('{"a":1}');
    expect(matchText(null)).toBeNull();
    const spec = { event: "order.paid", correlate: { event_path: "payload.order_id", value: "42" } };
    expect(specAccepts(spec, { name: "order.paid", payload: { order_id: 42 } }, 0)).toBe(true);
    expect(specAccepts(spec, { name: "order.shipped", payload: { order_id: 42 } }, 0)).toBe(false);
  });

  it("`if` fields are paths into the event, never the execution's entity", () => {
    const spec = { event: "entity_operation", if: [{ field: "entity.status", operator: "equals", value: "paid" }] };
    expect(specAccepts(spec, { name: "entity_operation", entity: { status: "paid" } }, 0)).toBe(true);
    expect(specAccepts(spec, { name: "entity_operation", entity: { status: "open" } }, 0)).toBe(false);
    const prefixed = { event: "x", if: [{ field: "event.payload.n", operator: "equals", value: 1 }] };
    expect(specAccepts(prefixed, { name: "x", payload: { n: 1 } }, 0)).toBe(true);
  });
});
