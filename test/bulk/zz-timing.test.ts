import { env } from "cloudflare:test";
import { it } from "vitest";
import { createFlow, SINK } from "../support/engine";
import { settleExecutions, capturingEnv, createJob, jobRow, seedRecords, uniqueSchema, runJob } from "./support";
import { patchBulkJob } from "../../src/services/bulk-jobs";
import { processBulkMessage } from "../../src/queues/bulk";
it("timing", async () => {
  const N = 2500;
  const schema = uniqueSchema("t");
  const flow = await createFlow({ flow_name: "t", actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/t` } }] });
  await seedRecords(schema, N);
  const { job, token } = await createJob({ flow_id: flow.id, entities_query: `_schema:${schema}` });
  const q = capturingEnv();
  const t0 = Date.now();
  let t = Date.now();
  const lap = (l: string) => { console.log("LAP", l, Date.now() - t, Date.now() - t0); t = Date.now(); };
  await patchBulkJob(q.env, "org-a", job.job_id, "APPROVE", token);
  for (let m = q.sent.shift(); m; m = q.sent.shift()) { await processBulkMessage(q.env, m); lap(m.type); }
  for (let i = 0; i < 40; i++) {
    const r = await jobRow(job.job_id);
    const c = await env.DB.prepare("SELECT execution_status s, count(*) n FROM bulk_job_items WHERE job_id=? GROUP BY 1").bind(job.job_id).all();
    console.log("LAP state", Date.now() - t0, r.status, r.items_finished, JSON.stringify(c.results));
    if (r.status !== "monitoring") break;
    await settleExecutions(job.job_id); lap("settle");
  }
  await runJob(job.job_id); lap("run");
}, 900000);
