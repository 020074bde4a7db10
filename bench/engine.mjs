// Execution engine benchmark (issue 4): N executions of a flow with two trigger-webhook actions
// against a local sink, under `wrangler dev`. Reports executions completed per second and
// start→finish latency p50/p99. Usage: npx node bench/engine.mjs [N=1000] [concurrency=20]
import { api, percentile, pool, startEngine, startSink } from "./lib.mjs";

const N = Number(process.argv[2] ?? 1000);
const CONCURRENCY = Number(process.argv[3] ?? 20);
const TIME_LIMIT_MS = 15 * 60_000;

const sink = await startSink();
const engine = await startEngine(8800 + Math.floor(Math.random() * 100));
const started = new Map();
try {
  const flow = await api(engine.base, "POST", "/v1/automation/flows", {
    flow_name: "bench two hooks",
    triggers: [{ type: "manual" }],
    actions: [
      { id: "one", type: "trigger-webhook", config: { url: `${sink.url}/one`, body: { execution: "{{ execution.id }}" } } },
      { id: "two", type: "trigger-webhook", config: { url: `${sink.url}/two`, body: { execution: "{{ execution.id }}" } } },
    ],
  });
  if (flow.status !== 201) throw new Error(`flow: ${flow.status} ${JSON.stringify(flow.body)}`);

  const t0 = Date.now();
  await pool(N, CONCURRENCY, async (i) => {
    const sent = Date.now();
    const res = await api(engine.base, "POST", "/v1/automation/executions", { flow_id: flow.body.id, entity_id: `e-${i}` });
    if (res.status !== 201) throw new Error(`start ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    started.set(res.body.id, sent);
  });
  const startedAll = Date.now();

  // Finished = the second action's request reached the sink; then confirm through the API.
  const finished = new Map();
  while (finished.size < N && Date.now() - t0 < TIME_LIMIT_MS) {
    for (const h of sink.hits) if (h.path === "/two" && !finished.has(h.body.execution)) finished.set(h.body.execution, h.at);
    if (finished.size < N) await new Promise((r) => setTimeout(r, 200));
  }
  const tEnd = Math.max(...finished.values());
  const latencies = [...finished].map(([id, at]) => at - started.get(id)).filter((x) => Number.isFinite(x));
  let success = 0;
  for (let from = 0; from < N; from += 100) {
    const page = await api(engine.base, "GET", `/v1/automation/executions?size=100&from=${from}`);
    success += page.body.results.filter((e) => e.execution_status === "success").length;
  }
  console.log(
    JSON.stringify(
      {
        executions: N,
        concurrency: CONCURRENCY,
        start_requests_per_s: +(N / ((startedAll - t0) / 1000)).toFixed(1),
        completed: finished.size,
        success_in_api: success,
        executions_completed_per_s: +(finished.size / ((tEnd - t0) / 1000)).toFixed(1),
        latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
        sink_requests: sink.hits.length,
      },
      null,
      2,
    ),
  );
} finally {
  engine.stop();
  sink.close();
}
