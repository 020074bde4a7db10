import { call } from "../../helpers";

/** TrustPager dialect test helpers: its base path and calls in an org of the test's own. */
export const TP = "/api/v1/automations";

let n = 0;
export const newOrg = (prefix = "tp") => `${prefix}-${++n}-${crypto.randomUUID().slice(0, 6)}`;

export function tp(org: string) {
  return {
    get: (path = "") => call("GET", `${TP}${path}`, { org }),
    post: (path: string, body?: unknown) => call("POST", `${TP}${path}`, { org, body }),
    patch: (path: string, body: unknown) => call("PATCH", `${TP}${path}`, { org, body }),
    del: (path: string) => call("DELETE", `${TP}${path}`, { org }),
  };
}

/** Creates an automation and returns its body (fails the test unless 201). */
export async function createAutomation(org: string, body: Record<string, unknown>): Promise<any> {
  const res = await tp(org).post("", body);
  if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
