// Memory soak (issue 14): N executions of the peer-bench workload (a manual flow with two GETs to a local
// sink, started with POST /v1/automation/executions), C in flight, under `wrangler dev`. Samples the
// resident memory of the engine's workerd process after every STEP completed executions and reports it
// against its level after the first BASELINE (the target: within 10%), with the throughput of each step.
// Usage: npx node bench/soak.mjs [N=20000] [C=20] [STEP=1000] [BASELINE=2000]
import { api, memory, percentile, pool, startEngine, startSink, workerdPids } from "./lib.mjs";

const N = Number(process.argv[2] ?? 20_000);
const C = Number(process.argv[3] ?? 20);
const STEP = Number(process.argv[4] ?? 1000);
const BASELINE = Number(process.argv[5] ?? 2000);
const TIME_LIMIT_MS = 60 * 60_000;

const sink = await startSink();
const engine = await startEngine(9100 + Math.floor(Math.random() * 100));
const rss = () => workerdPids(engine.child.pid).reduce((sum, pid) => sum + memory(pid).rss, 0);
const done = () => sink.hits.reduce((n, h) => n + (h.path.includes("step=done") ? 1 : 0), 0);
try {
  const step = (s) => ({ id: `s_${s}`, type: "call_webhook", config: { method: "GET", url: `${sink.url}/?step=${s}` } });
  const flow = await api(engine.base, "POST", "/v1/automation/flows", {
    flow_name: "soak",
    triggers: [{ type: "manual" }],
    actions: [step("1"), step("done")],
    max_executions: { count: 1_000_000, window: "PT1M" },
  });
  if (flow.status !== 201) throw new Error(`flow: ${flow.status} ${JSON.stringify(flow.body)}`);
  const deadline = Date.now() + TIME_LIMIT_MS;
  const samples = [];
  let started = 0;
  let lastAt = Date.now();
  console.log(`soak: ${N} executions, ${C} in flight; rss of workerd after every ${STEP}`);
  console.log("executions  rss MiB  executions/s");
  for (let k = 0; k < N / STEP; k++) {
    if (Date.now() > deadline) throw new Error("time limit reached");
    await pool(STEP, C, async (i) => {
      const res = await api(engine.base, "POST", "/v1/automation/executions", {
        flow_id: flow.body.id,
        entity_id: `s-${started + i}`,
      });
      if (res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
    });
    started += STEP;
    while (done() < started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const now = Date.now();
    const sample = { executions: started, rss: rss(), rate: STEP / ((now - lastAt) / 1000) };
    lastAt = now;
    samples.push(sample);
    console.log(
      `${String(sample.executions).padStart(10)}  ${sample.rss.toFixed(1).padStart(7)}  ${sample.rate.toFixed(1).padStart(12)}`,
    );
  }
  const base = samples.find((s) => s.executions >= BASELINE) ?? samples[0];
  const after = samples.filter((s) => s.executions > base.executions);
  const max = Math.max(...after.map((s) => s.rss));
  const last = samples.at(-1).rss;
  const drift = (v) => `${(((v - base.rss) / base.rss) * 100).toFixed(1)}%`;
  console.log(
    `\nrss after ${base.executions}: ${base.rss.toFixed(1)} MiB; highest after it ${max.toFixed(1)} MiB (${drift(max)}); ` +
      `last ${last.toFixed(1)} MiB (${drift(last)}); executions/s median ${percentile(
        samples.map((s) => s.rate),
        50,
      ).toFixed(1)}`,
  );
} finally {
  engine.stop();
  sink.close();
}
