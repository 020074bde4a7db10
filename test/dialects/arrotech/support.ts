import { expect } from "vitest";
import { call } from "../../helpers";

/** Arrotech dialect test helpers: its base paths and calls in an org of the test's own. */
export const WF = "/v1/workflows";
export const TPL = "/v1/workflow-templates";

let n = 0;
export const newOrg = (prefix = "arro") => `${prefix}-${++n}-${crypto.randomUUID().slice(0, 6)}`;

export function wf(org: string) {
  return {
    get: (path = "") => call("GET", `${WF}${path}`, { org }),
    post: (path: string, body?: unknown) => call("POST", `${WF}${path}`, { org, body }),
    put: (path: string, body: unknown) => call("PUT", `${WF}${path}`, { org, body }),
    del: (path: string) => call("DELETE", `${WF}${path}`, { org }),
  };
}

/** Creates a workflow and returns its body (fails the test unless 201). */
export async function createWorkflow(org: string, body: Record<string, unknown>): Promise<any> {
  const res = await wf(org).post("", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
