import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call } from "../helpers";
import { drive, getExecution } from "../support/engine";
import { controlledFlow, emit, fireFlowControl, flowControlStub, named } from "./support";

vi.setConfig({ testTimeout: 120_000 });

/** Debounce and batch: events of a key collect in a group; the flow's alarm, fired on purpose on its clock, starts one execution. */

let name = "";
beforeEach(() => {
  name = `fc.${Math.random().toString(36).slice(2, 10)}`;
});

const groupsOf = async (flowId: string) =>
  (
    await env.DB.prepare(
      `SELECT key, state, size, keep, opened_at, due_at FROM flow_control_groups WHERE flow_id = ? ORDER BY rowid`,
    )
      .bind(flowId)
      .all<{ key: string; state: string; size: number; keep: string; opened_at: number; due_at: number }>()
  ).results;

describe("debounce", () => {
  it("events of a key within the period start one execution with the last event, after the quiet period", async () => {
    const flow = await controlledFlow({ debounce: { period: "30s", key: "{{ trigger_event.payload.customer }}" } }, {}, name);
    const a1 = await emit(named(name, { customer: "c1", n: 1 }));
    const a2 = await emit(named(name, { customer: "c1", n: 2 }));
    const b1 = await emit(named(name, { customer: "c2", n: 1 }));
    expect(a1.started).toEqual([]);
    expect(a1.collected).toHaveLength(1);
    expect(a2.collected).toEqual(a1.collected);
    expect(b1.collected[0]).not.toBe(a1.collected[0]);
    const groups = await groupsOf(flow.id);
    expect(groups.map((g) => [g.key, g.state, g.size, g.keep])).toEqual([
      ["c1", "open", 2, "last"],
      ["c2", "open", 1, "last"],
    ]);
    // The second event moved c1's due time on: each group is due its period after its last event.
    const [c1, c2] = groups;
    expect((await flowControlStub(flow.id).alarmAt()) !== null).toBe(true);
    expect((await fireFlowControl(flow.id, c1.due_at - 1))!.flushed).toEqual(c2.due_at <= c1.due_at - 1 ? b1.collected : []);
    const run = (await fireFlowControl(flow.id, Math.max(c1.due_at, c2.due_at)))!;
    expect(run.flushed.sort()).toEqual(
      [...a1.collected, ...b1.collected].filter((id) => !run.flushed.includes(id) || true).sort(),
    );
    const exec = await getExecution(a1.collected[0]);
    expect(exec.trigger_event.payload).toEqual({ customer: "c1", n: 2 });
    expect(exec.trigger_events).toBeUndefined();
    expect(exec.admission).toMatchObject({ decision: "debounced", key: "c1" });
    expect(exec.admission.reason).toMatch(/^2 events debounced over /);
    expect((await drive(exec.id)).execution_status).toBe("scheduled");
    // A redelivered event joins nothing again: no new group, no second execution.
    const again = await emit({ ...named(name, { customer: "c1", n: 1 }), id: (await firstEventId(flow.id)) ?? "x" });
    expect(again.collected).toEqual(a1.collected);
    expect((await groupsOf(flow.id)).length).toBe(2);
  });

  it("mode batch gives every event as trigger_events; max_wait caps how long the first waits", async () => {
    const flow = await controlledFlow({ debounce: { period: "30s", max_wait: "40s", mode: "batch" } }, {}, name);
    const first = await emit(named(name, { n: 1 }));
    // As if the group had opened 20 s ago: the next event's quiet period would pass max_wait, which caps it.
    await env.DB.prepare(`UPDATE flow_control_groups SET opened_at = opened_at - 20000 WHERE flow_id = ?`).bind(flow.id).run();
    await emit(named(name, { n: 2 }));
    await emit(named(name, { n: 3 }));
    const [group] = await groupsOf(flow.id);
    expect(group.due_at).toBe(group.opened_at + 40_000);
    const run = (await fireFlowControl(flow.id, group.due_at))!;
    expect(run.flushed).toEqual(first.collected);
    const exec = await getExecution(first.collected[0]);
    expect(exec.trigger_events.map((e: any) => e.payload.n)).toEqual([1, 2, 3]);
    expect(exec.trigger_event.payload.n).toBe(3);
  });
});

/** The id of the first event a flow's groups collected (to send it again). */
async function firstEventId(flowId: string): Promise<string | null> {
  const row = await env.DB.prepare(
    `SELECT json_extract(input, '$.trigger_event.event_id') AS id FROM flow_control_members WHERE flow_id = ? AND input IS NOT NULL ORDER BY rowid LIMIT 1`,
  )
    .bind(flowId)
    .first<{ id: string | null }>();
  return row?.id ?? null;
}

describe("batch", () => {
  it("by size: max_size events start one execution at once; the next event opens a new batch", async () => {
    const flow = await controlledFlow({ batch: { max_size: 3, timeout: "1m" } }, {}, name);
    const outs = [];
    for (let i = 1; i <= 3; i++) outs.push(await emit(named(name, { n: i })));
    expect((await groupsOf(flow.id)).map((g) => g.state)).toEqual(["full"]);
    // The full batch armed the alarm for now: it starts without moving the clock.
    const run = (await fireFlowControl(flow.id))!;
    expect(run.flushed).toEqual(outs[0].collected);
    const exec = await getExecution(outs[0].collected[0]);
    expect(exec.trigger_events.map((e: any) => e.payload.n)).toEqual([1, 2, 3]);
    expect(exec.admission).toMatchObject({ decision: "batched", key: null });
    const fourth = await emit(named(name, { n: 4 }));
    expect(fourth.collected[0]).not.toBe(outs[0].collected[0]);
    expect((await groupsOf(flow.id)).map((g) => [g.state, g.size])).toEqual([
      ["done", 3],
      ["open", 1],
    ]);
  });

  it("by timeout: what came within the timeout starts one execution", async () => {
    const flow = await controlledFlow({ batch: { max_size: 10, timeout: "1m", key: "{{ trigger_event.payload.k }}" } }, {}, name);
    const a = await emit(named(name, { k: "a", n: 1 }));
    await emit(named(name, { k: "a", n: 2 }));
    const [group] = await groupsOf(flow.id);
    expect((await fireFlowControl(flow.id, group.due_at - 1))!.flushed).toEqual([]);
    expect((await fireFlowControl(flow.id, group.due_at))!.flushed).toEqual(a.collected);
    const exec = await getExecution(a.collected[0]);
    expect(exec.trigger_events.map((e: any) => e.payload.n)).toEqual([1, 2]);
    expect(exec.admission.key).toBe("a");
    expect(exec.admission.waited_ms).toBeGreaterThanOrEqual(60_000);
  });

  it("a direct start (API) is not collected: it names one run", async () => {
    const flow = await controlledFlow({ batch: { max_size: 10, timeout: "1m" } }, {}, name);
    const res = await call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: "x" } });
    expect(res.status).toBe(201);
    expect(res.body.admission).toMatchObject({ decision: "admitted" });
    expect(await groupsOf(flow.id)).toEqual([]);
  });

  it("a flush that died is taken again by the alarm after its grace; a group of a deleted flow starts nothing", async () => {
    const flow = await controlledFlow({ batch: { max_size: 2, timeout: "1m" } }, {}, name);
    const a = await emit(named(name, { n: 1 }));
    await emit(named(name, { n: 2 }));
    // As if a flusher took the group and died before starting its execution.
    await env.DB.prepare(`UPDATE flow_control_groups SET state = 'flushing', flushed_at = ? WHERE flow_id = ?`)
      .bind(Date.now(), flow.id)
      .run();
    expect((await fireFlowControl(flow.id))!.flushed).toEqual([]);
    expect((await fireFlowControl(flow.id, Date.now() + 61_000))!.flushed).toEqual(a.collected);
    expect((await getExecution(a.collected[0])).trigger_events).toHaveLength(2);
  });
});
