import { describe, expect, it } from "vitest";
import { controlRefusal } from "../../../src/engine/execution/apply";
import { advance } from "../../../src/engine/execution/advance";
import { createExecutionState, type NewExecution } from "../../../src/engine/execution/create";
import type { ActionOutcome, Command, ExecutionState, RunActionCommand } from "../../../src/engine/execution/types";

/** Multi-step actions (ai_agent, docs/ai.md) in the pure engine: the `step` outcome and approval decisions. */

const base: NewExecution = {
  id: "e1",
  org_id: "o",
  entity_id: "r",
  entity: { _id: "r", tier: "gold" },
  trigger_event: { type: "manual" },
  flow: {
    id: "f",
    flow_name: "f",
    version: 1,
    conditions: [
      {
        id: "c1",
        statements: [
          { id: "s", source: { origin: "trigger", schema: "x", attribute: "tier" }, operation: "equals", values: ["gold"] },
        ],
      },
    ],
    actions: [
      { id: "agent", type: "ai_agent", config: { input: "x" }, condition_id: "c1" },
      { id: "after", type: "call_webhook", config: { url: "https://x.example/" } },
    ],
  },
};

const runOf = (cmds: Command[]) => cmds.find((c): c is RunActionCommand => c.type === "run_action");
const result = (cmd: RunActionCommand, outcome: ActionOutcome) =>
  ({ type: "action_result", action_id: cmd.action_id, attempt: cmd.attempt, run: cmd.run, outcome }) as const;

function started(): { state: ExecutionState; run: RunActionCommand } {
  const out = advance(
    createExecutionState(
      {
        ...base,
        flow: { ...base.flow, conditions: [], actions: base.flow.actions.map((a) => ({ ...a, condition_id: undefined })) },
      },
      0,
    ),
    { type: "wake" },
    10,
  );
  return { state: out.state, run: runOf(out.commands)! };
}

describe("the step outcome", () => {
  it("stores the progress and runs the action again with a fresh retry budget and a new attempt number", () => {
    const { state, run } = started();
    const out = advance(state, result(run, { kind: "step", progress: { n: 1 }, outputs: { steps: [1] } }), 20);
    expect(out.commands).toContainEqual({ type: "store_progress", action_id: "agent", progress: { n: 1 } });
    expect(out.commands).toContainEqual(
      expect.objectContaining({ type: "store_output", action_id: "agent", outputs: { steps: [1] } }),
    );
    const next = runOf(out.commands)!;
    expect(next).toMatchObject({ action_id: "agent", attempt: 1, number: 2, idempotency_key: "e1:agent" });
    expect(out.state.actions[0]).toMatchObject({ step: 1, attempts: 1, attempts_total: 2, execution_status: "in_progress" });
    expect(out.state.status).toBe("in_progress");
  });

  it("a failure after some steps is retried within that step's budget; the last step's success drops the progress", () => {
    const { state, run } = started();
    const stepped = advance(state, result(run, { kind: "step", progress: { n: 1 } }), 20);
    const second = runOf(stepped.commands)!;
    const failed = advance(
      stepped.state,
      result(second, { kind: "failed", error: { error_code: "LLM_ERROR", error_reason: "503" }, retry: "policy" }),
      30,
    );
    expect(failed.state.actions[0].next_attempt_at).toBeGreaterThan(30);
    expect(failed.commands.some((c) => c.type === "store_progress")).toBe(false);
    const retried = advance(failed.state, { type: "wake" }, failed.state.actions[0].next_attempt_at!);
    const again = runOf(retried.commands)!;
    expect(again).toMatchObject({ attempt: 2, number: 3 });
    const done = advance(retried.state, result(again, { kind: "success", outputs: { text: "ok" } }), 99_999_999);
    expect(done.commands).toContainEqual({ type: "store_progress", action_id: "agent", progress: null });
    expect(done.state.actions[0].execution_status).toBe("success");
    expect(runOf(done.commands)?.action_id).toBe("after");
  });

  it("a later step is not gated again by the action's condition", () => {
    const out = advance(createExecutionState(base, 0), { type: "wake" }, 10);
    expect(out.state.actions[0].condition_result?.passed).toBe(true);
    const first = runOf(out.commands)!;
    // A condition that would now fail: only a first visit evaluates it, so the next step still runs.
    const failing = structuredClone(base.flow.conditions!);
    (failing[0].statements as { values: string[] }[])[0].values = ["silver"];
    const changed = { ...out.state, flow: { ...out.state.flow, conditions: failing } };
    const next = advance(changed, result(first, { kind: "step", progress: {} }), 20);
    expect(runOf(next.commands)?.action_id).toBe("agent");
    expect(next.state.actions[0].execution_status).toBe("in_progress");
    expect(next.state.actions[0].condition_result?.passed).toBe(true);
  });
});

describe("approvals", () => {
  function waiting() {
    const { state, run } = started();
    return advance(
      state,
      result(run, { kind: "step", progress: { n: 1 }, approval: { tool: "slack_post_message", tool_call_id: "c1" } }),
      20,
    );
  }

  it("a step asking for approval pauses the action and the execution, with the call", () => {
    const out = waiting();
    expect(out.state.status).toBe("paused");
    expect(out.state.actions[0]).toMatchObject({
      execution_status: "paused",
      approval: { tool: "slack_post_message", tool_call_id: "c1", requested_at: 20 },
    });
    expect(runOf(out.commands)).toBeUndefined();
    expect(out.commands).toContainEqual({ type: "write_summary" });
    // Nothing wakes it; a resume token cannot end it.
    expect(controlRefusal(out.state, { type: "resumed", action_id: "agent" })?.status).toBe(400);
  });

  it("a decision runs the action again, which sees it; its next step's result clears it", () => {
    const decided = advance(
      waiting().state,
      { type: "approval_decided", action_id: "agent", decision: "reject", comment: "no", by: "ops@x" },
      30,
    );
    expect(decided.state.status).toBe("in_progress");
    expect(decided.state.actions[0].approval).toMatchObject({
      decision: "reject",
      comment: "no",
      decided_by: "ops@x",
      decided_at: 30,
    });
    const run = runOf(decided.commands)!;
    expect(run.action_id).toBe("agent");
    const next = advance(decided.state, result(run, { kind: "step", progress: { n: 2 } }), 40);
    expect(next.state.actions[0].approval).toBeUndefined();
  });

  it("refuses a decision for an unknown action (404), or one that is not waiting (409)", () => {
    const w = waiting().state;
    expect(controlRefusal(w, { type: "approval_decided", action_id: "nope", decision: "approve" })?.status).toBe(404);
    expect(controlRefusal(w, { type: "approval_decided", action_id: "after", decision: "approve" })?.status).toBe(409);
    const decided = advance(w, { type: "approval_decided", action_id: "agent", decision: "approve" }, 30).state;
    expect(controlRefusal(decided, { type: "approval_decided", action_id: "agent", decision: "approve" })?.status).toBe(409);
    expect(controlRefusal(w, { type: "approval_decided", action_id: "agent", decision: "approve" })).toBeNull();
  });

  it("a cancel while waiting ends it and drops the progress; a retrigger starts the action over", () => {
    const cancelled = advance(waiting().state, { type: "cancelled", reason: "stop" }, 30);
    expect(cancelled.state.status).toBe("cancelled");
    expect(cancelled.state.actions[0].approval).toBeUndefined();
    expect(cancelled.commands).toContainEqual({ type: "store_progress", action_id: "agent", progress: null });

    const retried = advance(waiting().state, { type: "retriggered", action_id: "agent", strategy: "RETRY_AND_RESUME" }, 30);
    expect(retried.commands).toContainEqual({ type: "store_progress", action_id: "agent", progress: null });
    expect(retried.state.actions[0]).toMatchObject({ step: undefined, approval: undefined });
    expect(runOf(retried.commands)?.action_id).toBe("agent");
  });
});
