import { env } from "cloudflare:test";
import { expect } from "vitest";
import { createFlow, drive, executionStub } from "../support/engine";

/** An action that holds its execution `scheduled` for an hour: executions finish only when a test drives them. */
export const HOLD = [{ id: "hold", type: "delay", config: { duration: 3600, unit: "seconds" } }];
export const LATER = () => Date.now() + 2 * 3_600_000;

export async function limitedFlow(limit: number, extra: Record<string, unknown> = {}, org = "org-a"): Promise<any> {
  return createFlow({ flow_name: `limited-${limit}`, concurrency_limit: limit, actions: HOLD, ...extra }, org);
}

export interface QueueRow {
  execution_id: string;
  state: string;
  seq: number;
}

/** The flow's admission queue, in admission order. */
export async function queueOf(flowId: string): Promise<QueueRow[]> {
  const { results } = await env.DB.prepare(`SELECT execution_id, state, seq FROM admission_queue WHERE flow_id = ? ORDER BY seq`)
    .bind(flowId)
    .all<QueueRow>();
  return results;
}

export const holders = (rows: QueueRow[]) => rows.filter((r) => r.state === "admitted" || r.state === "running");
export const waiting = (rows: QueueRow[]) => rows.filter((r) => r.state === "waiting");

/** Executions of the flow that have started running (their object took them) and have not ended. */
export async function runningCount(flowId: string): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT COUNT(*) AS n FROM executions WHERE flow_id = ? AND status IN ('starting', 'in_progress', 'scheduled', 'paused')`,
  )
    .bind(flowId)
    .first<{ n: number }>();
  return row!.n;
}

/** Whether the execution has an object (it was started) — asked without creating one's storage. */
export async function hasObject(id: string): Promise<boolean> {
  return (await executionStub(id).snapshot()) !== null;
}

/** Lets a started execution reach its hold (its alarm fires on its own), then moves past it: it ends `success`. */
export async function finish(id: string): Promise<any> {
  await executionStub(id).waitUntilSettled(10_000);
  const exec = await drive(id, LATER());
  expect(exec.execution_status, id).toBe("success");
  return exec;
}
