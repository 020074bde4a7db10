import { expect } from "vitest";
import { call } from "../helpers";

/** Helpers of the reruns tests: the ledger, previews and retriggers through the API. */

export async function ledger(id: string, org = "org-a"): Promise<any> {
  const res = await call("GET", `/v1/automation/executions/${id}/effects`, { org });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function preview(id: string, actionId: string, body: Record<string, unknown> = {}, org = "org-a"): Promise<any> {
  const res = await call("POST", `/v1/automation/executions/${id}/${actionId}/retrigger:preview`, { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function retrigger(id: string, actionId: string, body: Record<string, unknown> = {}, org = "org-a"): Promise<any> {
  const res = await call("POST", `/v1/automation/executions/${id}/${actionId}/retrigger`, { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** What a preview and a ledger entry must agree on: which action (and item, attempt) sends what where, with which key. */
export const identity = (e: any) => ({
  action_id: e.action_id,
  action_name: e.action_name,
  iteration: e.iteration,
  attempt: e.attempt,
  kind: e.kind,
  target: e.target,
  method: e.method,
  idempotency_key: e.idempotency_key,
  dedupe: e.dedupe,
  repeats_idempotency_key: e.repeats_idempotency_key,
});
