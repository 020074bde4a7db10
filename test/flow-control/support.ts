import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { FlowControlRun } from "../../src/contracts/flow-control-object";
import type { FlowControlObject } from "../../src/objects/flow-control-object";
import { processEvent } from "../../src/queues/events";
import type { NamedEvent } from "../../src/schemas/events";
import { prepareEvent } from "../../src/services/event-queue";
import { call } from "../helpers";
import { createFlow, drive, executionStub } from "../support/engine";

/** An action that holds its execution `scheduled` for an hour: executions end only when a test drives them. */
export const HOLD = [{ id: "hold", type: "delay", config: { duration: 3600, unit: "seconds" } }];
export const LATER = () => Date.now() + 2 * 3_600_000;

/** A flow with `flow_control` (and whatever else), started by manual starts and by the named event `name`. */
export async function controlledFlow(flowControl: Record<string, unknown>, extra: Record<string, unknown> = {}, name?: string) {
  return createFlow({
    flow_name: `fc-${Math.random().toString(36).slice(2, 8)}`,
    triggers: [{ type: "manual" }, ...(name ? [{ type: "event", configuration: { event_name: name } }] : [])],
    actions: HOLD,
    flow_control: flowControl,
    ...extra,
  });
}

/** Starts through the API (a direct start) for `entityId`; returns the execution's document. */
export async function start(flowId: string, entityId: string, org = "org-a"): Promise<any> {
  const res = await call("POST", "/v1/automation/executions", { org, body: { flow_id: flowId, entity_id: entityId } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

let n = 0;
/** A named event as the intake endpoint makes it. */
export function named(name: string, payload: Record<string, unknown>, id?: string): NamedEvent {
  n++;
  return {
    id: id ?? `in:fc-${n}-${Math.random()}`,
    org_id: "org-a",
    at: new Date().toISOString(),
    depth: 0,
    type: "event",
    event_name: name,
    payload,
    entity_id: null,
  };
}

/** What a producer does (the inbox), then the consumer (the queue itself is left out). */
export async function emit(event: NamedEvent) {
  await prepareEvent(env, event).insert.run();
  return processEvent(env, event);
}

export interface Row {
  execution_id: string;
  state: string;
  seq: number;
  k1: string | null;
  k2: string | null;
  k3: string | null;
  priority: number;
  not_before: number;
  reason: string | null;
}

/** The flow's admission queue, in admission order. */
export async function queueOf(flowId: string): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    `SELECT execution_id, state, seq, k1, k2, k3, priority, not_before, reason FROM admission_queue WHERE flow_id = ? ORDER BY seq`,
  )
    .bind(flowId)
    .all<Row>();
  return results;
}

export const holding = (rows: Row[]) => rows.filter((r) => r.state === "admitted" || r.state === "running");
export const waitingRows = (rows: Row[]) => rows.filter((r) => r.state === "waiting");

/** Executions of the flow whose object took them and that have not ended, per status row. */
export async function liveExecutions(flowId: string): Promise<{ id: string; entity_id: string }[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, entity_id FROM executions WHERE flow_id = ? AND status IN ('starting', 'in_progress', 'scheduled', 'paused')`,
  )
    .bind(flowId)
    .all<{ id: string; entity_id: string }>();
  return results;
}

/** Lets a started execution reach its hold, then moves past it: it ends `success`. */
export async function finish(id: string): Promise<any> {
  await executionStub(id).waitUntilSettled(10_000);
  const exec = await drive(id, LATER());
  expect(exec.execution_status, id).toBe("success");
  return exec;
}

/** The flow's FlowControlObject stub typed by its class: tests reach into the instance (its clock, its last run). */
export function flowControlStub(flowId: string): DurableObjectStub<FlowControlObject> {
  return env.FLOW_CONTROL.get(env.FLOW_CONTROL.idFromName(flowId)) as DurableObjectStub<FlowControlObject>;
}

/**
 * Fires the flow's flow-control alarm on purpose with its clock at `now` (default: the real clock): time
 * moves only when a test says so. Returns what the run did, or null when no alarm was armed.
 */
export async function fireFlowControl(flowId: string, now?: number): Promise<FlowControlRun | null> {
  const stub = flowControlStub(flowId);
  await runInDurableObject(stub, (o: FlowControlObject) => {
    o.clock = () => now ?? Date.now();
    o.lastRun = null;
  });
  const ran = await runDurableObjectAlarm(stub);
  if (!ran) return null;
  return runInDurableObject(stub, (o: FlowControlObject) => o.lastRun);
}
