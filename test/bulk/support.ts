import { env, runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import type { Env } from "../../src/env";
import type { BulkMessage } from "../../src/schemas/bulk-jobs";
import { processBulkMessage } from "../../src/queues/bulk";
import { bulkMessage } from "../../src/services/bulk-jobs";
import { getBulkJob, type BulkJobRow } from "../../src/store/bulk-jobs";
import { call } from "../helpers";
import { executionStub } from "../support/engine";

export const BULK_PATH = "/v1/automation/executions/bulk-jobs";

let n = 0;
/** A unique schema name per test (tests of one file share D1). */
export const uniqueSchema = (base: string) => `${base}-${Date.now().toString(36)}-${n++}`;

/**
 * Inserts `count` records of `schema` straight into D1 (one statement per 500): the bulk tests need
 * thousands, and the records API is tested elsewhere. Ids are `<schema>-<5 digits>`, so they sort by i.
 */
export async function seedRecords(
  schema: string,
  count: number,
  data: (i: number) => Record<string, unknown> = (i) => ({ name: `r${i}`, i }),
  org = "org-a",
): Promise<string[]> {
  const now = new Date().toISOString();
  const ids = Array.from({ length: count }, (_, i) => `${schema}-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < count; i += 500) {
    const rows = ids.slice(i, i + 500).map((id, k) => ({ id, data: JSON.stringify(data(i + k)) }));
    await env.DB.prepare(
      `INSERT INTO records (id, org_id, schema, title, tags, data, created_at, updated_at, created_by, version)
       SELECT json_extract(value, '$.id'), ?, ?, '', '[]', json_extract(value, '$.data'), ?, ?, 'test', 1 FROM json_each(?)`,
    )
      .bind(org, schema, now, now, JSON.stringify(rows))
      .run();
  }
  return ids;
}

/**
 * A queue that keeps what is sent, so a test delivers (or re-delivers) the messages itself. `delays`
 * holds each message's delaySeconds (keyed by the message object).
 */
export function capturingEnv(): { env: Env; sent: BulkMessage[]; delays: Map<BulkMessage, number> } {
  const sent: BulkMessage[] = [];
  const delays = new Map<BulkMessage, number>();
  const keep = (body: unknown, delay: number | undefined) => {
    sent.push(body as BulkMessage);
    if (delay) delays.set(body as BulkMessage, delay);
  };
  const queue = {
    send: async (body: unknown, opts?: QueueSendOptions) => keep(body, opts?.delaySeconds),
    sendBatch: async (msgs: Iterable<MessageSendRequest<unknown>>) => {
      for (const m of msgs) keep(m.body, m.delaySeconds);
    },
  } as unknown as Queue<unknown>;
  return { env: { ...(env as unknown as Env), BULK_QUEUE: queue }, sent, delays };
}

export async function createJob(body: Record<string, unknown>, org = "org-a"): Promise<{ job: any; token: string }> {
  const res = await call("POST", BULK_PATH, { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { job: res.body, token: res.body.task_token };
}

export async function approve(jobId: string, token: string, org = "org-a") {
  const res = await call("PATCH", `${BULK_PATH}/${jobId}`, { org, body: { action: "APPROVE", task_token: token } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function getJob(jobId: string, query = "", org = "org-a") {
  const res = await call("GET", `${BULK_PATH}/${jobId}${query}`, { org });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export const jobRow = async (jobId: string, org = "org-a"): Promise<BulkJobRow> => (await getBulkJob(env.DB, org, jobId))!;

/** Unfinished items' execution ids. */
async function unfinishedExecutions(jobId: string): Promise<string[]> {
  const rows = await env.DB.prepare(
    `SELECT execution_id FROM bulk_job_items WHERE job_id = ? AND execution_status IN ('starting', 'in_progress', 'paused', 'scheduled')`,
  )
    .bind(jobId)
    .all<{ execution_id: string }>();
  return rows.results.map((r) => r.execution_id);
}

/**
 * Runs each of the job's unfinished executions to its end by firing its alarm on purpose (as `drive`
 * does), `concurrency` at a time: waiting for the runtime's own alarms would leave the pace to it.
 */
export async function settleExecutions(jobId: string, concurrency = 25): Promise<void> {
  const ids = await unfinishedExecutions(jobId);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const stub = executionStub(ids[next++]);
      for (let i = 0; i < 50; i++) {
        if (!["pending", "starting", "in_progress"].includes(await stub.waitUntilSettled(0))) break;
        if (!(await runDurableObjectAlarm(stub))) break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Drives a job to its end the way the queue would, one message at a time, with the consumer's own
 * function (processBulkMessage). Follow-up messages go to a capturing queue; the next step is chosen
 * from the job's state, so a copy the background queue consumer processes meanwhile changes nothing.
 */
export async function runJob(jobId: string, org = "org-a"): Promise<BulkJobRow> {
  const { env: qenv } = capturingEnv();
  for (let step = 0; step < 500; step++) {
    const job = await jobRow(jobId, org);
    const base = { org_id: org, job_id: jobId };
    const msg = (m: Parameters<typeof bulkMessage>[0]) => processBulkMessage(qenv, bulkMessage(m));
    switch (job.status) {
      case "querying_entities":
        await msg({ ...base, type: "load", page: job.pages_processed });
        break;
      case "entities_loaded":
        await msg({ ...base, type: "load", page: job.pages_processed - 1 });
        break;
      case "executing": {
        // Pages the window has no room for now are deferred (their copies go to the capturing queue):
        // settling the executions started so far makes room, and the next round starts them.
        const pages = Math.ceil(job.total_processed / job.page_size);
        for (let page = 0; page < pages; page++) await msg({ ...base, type: "execute", page });
        if ((await jobRow(jobId, org)).status === "executing") await settleExecutions(jobId);
        break;
      }
      case "monitoring":
        await settleExecutions(jobId);
        // The last execution's end moved the job on; if not yet visible, wait for the stragglers again.
        break;
      case "send_report":
        await msg({ ...base, type: "report" });
        break;
      default:
        return job;
    }
  }
  throw new Error(`job ${jobId} did not end`);
}

/** Every execution row of a job (the D1 index), to check exactly one per record. */
export async function executionRows(jobId: string): Promise<{ id: string; entity_id: string; status: string }[]> {
  const rows = await env.DB.prepare(`SELECT id, entity_id, status FROM executions WHERE bulk_job_id = ?`)
    .bind(jobId)
    .all<{ id: string; entity_id: string; status: string }>();
  return rows.results;
}
