// Bulk job benchmark (issue 6): one bulk job over N records with a one-action flow (a webhook to a local
// sink), under `wrangler dev`. Reports the time from approve to `finished`, executions per second, the
// peak memory of the workerd process and the D1 rows written per record (D1's own rows_written of every
// write from approve to finished, logged by src/lib/d1-meter.ts with D1_METER=1).
// Usage: npx node bench/bulk.mjs [N=10000] [record-create concurrency=20]
import { writeFileSync } from "node:fs";
import { api, memory, pool, startEngine, startSink, workerdPids } from "./lib.mjs";

const N = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = Number(process.argv[3] ?? 20);
const TIME_LIMIT_MS = 25 * 60_000;
const SCHEMA = "bench_contact";

const sink = await startSink();
const engine = await startEngine(8900 + Math.floor(Math.random() * 100), ["--var", "D1_METER:1", "--test-scheduled"]);
// The platform's per-minute cron (reconciliation), which `wrangler dev` does not run by itself.
const cron = setInterval(() => fetch(`${engine.base}/__scheduled?cron=*+*+*+*+*`).catch(() => undefined), 60_000);
/** Sum of the rows_written the engine logged from log offset `from` on. */
const rowsWrittenSince = (from) =>
  [
    ...engine
      .log()
      .slice(from)
      .matchAll(/d1-meter rows_written=(\d+)/g),
  ].reduce((sum, m) => sum + Number(m[1]), 0);
const peak = { hwm: 0 };
const sampler = setInterval(() => {
  for (const pid of workerdPids(engine.child.pid)) peak.hwm = Math.max(peak.hwm, memory(pid).hwm);
}, 1000);
const check = (res, status, what) => {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
};

try {
  const t0 = Date.now();
  // Records through the API, `CONCURRENCY` requests in flight (each write also emits a record event).
  await pool(N, CONCURRENCY, async (i) => {
    check(
      await api(engine.base, "POST", `/v1/entities/${SCHEMA}`, { name: `c${i}`, n: i, status: "active" }),
      201,
      `record ${i}`,
    );
  });
  const seeded = Date.now();
  const flow = check(
    await api(engine.base, "POST", "/v1/automation/flows", {
      flow_name: "bench bulk one hook",
      triggers: [{ type: "manual" }],
      actions: [{ id: "hook", type: "call_webhook", config: { url: `${sink.url}/bulk`, body: { id: "{{ entity._id }}" } } }],
    }),
    201,
    "flow",
  );
  const job = check(
    await api(engine.base, "POST", "/v1/automation/executions/bulk-jobs", {
      flow_id: flow.id,
      entities_query: `_schema:${SCHEMA} AND status:active`,
    }),
    202,
    "bulk job",
  );

  // The records' own events settle before the job starts, so the meter counts the job's writes only.
  await new Promise((r) => setTimeout(r, 5000));
  const logFrom = engine.log().length;
  const approvedAt = Date.now();
  check(
    await api(engine.base, "PATCH", `/v1/automation/executions/bulk-jobs/${job.job_id}`, {
      action: "APPROVE",
      task_token: job.task_token,
    }),
    200,
    "approve",
  );
  const transitions = [];
  let view;
  for (;;) {
    view = check(await api(engine.base, "GET", `/v1/automation/executions/bulk-jobs/${job.job_id}?summary_size=0`), 200, "get");
    if (transitions.at(-1)?.status !== view.status)
      transitions.push({ status: view.status, at_s: (Date.now() - approvedAt) / 1000 });
    if (["finished", "failed", "cancelled"].includes(view.status)) break;
    if (Date.now() - approvedAt > TIME_LIMIT_MS) throw new Error(`not finished in time: ${JSON.stringify(view.counts)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const finishedAt = Date.now();
  // The last executions' summaries land a moment after the report: let them, then count.
  await new Promise((r) => setTimeout(r, 3000));
  const rowsWritten = rowsWrittenSince(logFrom);
  for (const pid of workerdPids(engine.child.pid)) peak.hwm = Math.max(peak.hwm, memory(pid).hwm);

  const seconds = (finishedAt - approvedAt) / 1000;
  const keys = new Set(sink.hits.filter((h) => h.path === "/bulk").map((h) => h.headers["idempotency-key"]));
  const report = check(
    await api(engine.base, "GET", `/v1/entities/bulk_job_report/${view.report_file_entity_id}`),
    200,
    "report",
  );
  console.log(
    JSON.stringify(
      {
        records: N,
        seed_s: (seeded - t0) / 1000,
        status: view.status,
        approve_to_finished_s: seconds,
        executions_per_s: +(N / seconds).toFixed(1),
        transitions,
        counts: view.counts,
        pagination_state: view.pagination_state,
        sink_requests: sink.hits.filter((h) => h.path === "/bulk").length,
        distinct_executions_at_sink: keys.size,
        report: { total: report.total, status_counts: report.status_counts, failed_items_total: report.failed_items_total },
        workerd_peak_rss_mib: +peak.hwm.toFixed(1),
        d1_rows_written: rowsWritten,
        d1_rows_written_per_record: +(rowsWritten / N).toFixed(2),
        // Messages the per-minute reconciliation had to send again (a lost message, a stalled chain).
        reconcile_resends: [...engine.log().matchAll(/reconcile-bulk-jobs (\{.*\})/g)].map((m) => JSON.parse(m[1]).resent),
      },
      null,
      2,
    ),
  );
} finally {
  // The engine's log, for a look at what the figures hide (BULK_BENCH_LOG=path).
  if (process.env.BULK_BENCH_LOG) writeFileSync(process.env.BULK_BENCH_LOG, engine.log());
  clearInterval(sampler);
  clearInterval(cron);
  engine.stop();
  sink.close();
}
