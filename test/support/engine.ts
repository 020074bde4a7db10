import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { call } from "../helpers";
import type { SinkRequest } from "./sink";

export const SINK = "http://sink.test";

/**
 * The execution's stub typed by its class: tests reach into the instance (runInDurableObject, its clock),
 * while the Worker's code sees only the RPC contract (src/contracts/execution-object.ts).
 */
export function executionStub(id: string): DurableObjectStub<ExecutionObject> {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id)) as DurableObjectStub<ExecutionObject>;
}

/** Creates a flow in `org` (default org-a) through the API and returns it. */
export async function createFlow(body: Record<string, unknown>, org = "org-a"): Promise<any> {
  const res = await call("POST", "/v1/automation/flows", { org, body: { triggers: [{ type: "manual" }], ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Creates a record through the API and returns its snapshot. */
export async function createRecord(schema: string, data: Record<string, unknown>, org = "org-a"): Promise<any> {
  const res = await call("POST", `/v1/entities/${schema}`, { org, body: data });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Starts an execution through the API (startExecution) and returns its id. */
export async function startExec(
  flowId: string,
  entityId = "none",
  org = "org-a",
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await call("POST", "/v1/automation/executions", { org, body: { flow_id: flowId, entity_id: entityId }, headers });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Sets the execution object's clock (ms). */
export async function setClock(id: string, now: number): Promise<void> {
  await runInDurableObject(executionStub(id), (o: ExecutionObject) => {
    o.clock = () => now;
  });
}

const SETTLED = new Set(["success", "failed", "cancelled", "skipped", "hot", "paused"]);

/**
 * Fires the execution's alarm on purpose until nothing is due on its clock (optionally set first):
 * time moves only when a test says so.
 */
export async function drive(id: string, now?: number): Promise<any> {
  const stub = executionStub(id);
  if (now !== undefined) await setClock(id, now);
  const clock = () => now ?? Date.now();
  for (let i = 0; i < 200; i++) {
    await runDurableObjectAlarm(stub);
    const snap = (await stub.snapshot()) as unknown as ExecutionSnapshot | null;
    if (!snap || SETTLED.has(snap.state.status)) break;
    const next = await stub.nextWakeAt();
    if (next === null || next > clock()) break;
  }
  return getExecution(id);
}

export async function getExecution(id: string, org = "org-a"): Promise<any> {
  const res = await call("GET", `/v1/automation/executions/${id}`, { org });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function sinkRequests(pathPrefix = "/"): Promise<SinkRequest[]> {
  const res = await env.SINK.fetch("http://sink/__requests");
  const all = (await res.json()) as SinkRequest[];
  return all.filter((r) => r.path.startsWith(pathPrefix));
}

/**
 * Resolves once the sink has seen a request under `path` (an action's side effect has started): the sink
 * answers when it arrives, no polling. Fails when none came within `capMs`.
 */
export async function untilSinkSaw(path: string, capMs = 10_000): Promise<void> {
  const res = await env.SINK.fetch(`http://sink/__wait?path=${encodeURIComponent(path)}&timeout_ms=${capMs}`);
  if (res.status !== 200) throw new Error(`the sink never saw ${path} within ${capMs} ms`);
}

export async function sinkReset(): Promise<void> {
  await env.SINK.fetch("http://sink/__reset", { method: "POST" });
}

/**
 * Records what the Worker sends to the events queue (the binding is shared with the objects). With
 * `deliver`, each message still goes to the real queue as well; with `into`, they are kept in that array.
 * `restore()` puts the binding back.
 */
export function recordEvents<T = unknown>(opts: { deliver?: boolean; into?: T[] } = {}): { sent: T[]; restore: () => void } {
  const queue = env.EVENTS_QUEUE;
  const original = queue.send;
  const originalBatch = queue.sendBatch;
  const sent: T[] = opts.into ?? [];
  queue.send = async (body: unknown, options?: QueueSendOptions) => {
    sent.push(structuredClone(body) as T);
    if (opts.deliver) return original.call(queue, body, options);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
  };
  queue.sendBatch = async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
    const list = [...messages];
    for (const m of list) sent.push(structuredClone(m.body) as T);
    if (opts.deliver) return originalBatch.call(queue, list, options);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendBatchResponse;
  };
  return {
    sent,
    restore: () => {
      queue.send = original;
      queue.sendBatch = originalBatch;
    },
  };
}
