// Memory soak (issues 14 and 29), two sides in one sitting, one after the other, under `wrangler dev`:
// 1. the one-object ceiling (bench/ceiling, a copy of the peer-bench kit's): N requests, C in flight, each
//    creating one new SQLite Durable Object — what workerd itself keeps per created object;
// 2. the engine: N executions of the peer-bench workload (a manual flow with two GETs to a local sink,
//    started with POST /v1/automation/executions), C in flight — one object per execution.
// Each side samples the resident memory of its workerd processes after every STEP objects (for the engine,
// once those executions have finished). The summary compares the growth per created object from the sample
// at BASELINE to the last one (MiB per 1,000 objects): issue 29 wants the engine's no more than the ceiling's.
// Usage: npx node bench/soak.mjs [N=20000] [C=20] [STEP=1000] [BASELINE=2000]
// SOAK_ONLY=engine or SOAK_ONLY=ceiling runs one side.
import { api, freePort, memory, percentile, pool, startCeiling, startEngine, startSink, workerdPids } from "./lib.mjs";

const N = Number(process.argv[2] ?? 20_000);
const C = Number(process.argv[3] ?? 20);
const STEP = Number(process.argv[4] ?? 1000);
const BASELINE = Number(process.argv[5] ?? 2000);
const ONLY = process.env.SOAK_ONLY;
const TIME_LIMIT_MS = 60 * 60_000; // per side
if (ONLY !== undefined && ONLY !== "engine" && ONLY !== "ceiling") throw new Error("SOAK_ONLY: engine or ceiling");
if (!(N > 0 && C > 0 && STEP > 0 && N % STEP === 0)) throw new Error("want N, C, STEP > 0 and STEP dividing N");

const rssOf = (server) => workerdPids(server.child.pid).reduce((sum, pid) => sum + memory(pid).rss, 0);

/**
 * Runs `create(i)` for i in [0, N), C in flight, in steps of STEP; after each step waits for `settled(n)`
 * and samples workerd's RSS. Prints one line per step; returns the samples.
 */
async function soak(label, server, create, settled = async () => {}) {
  const deadline = Date.now() + TIME_LIMIT_MS;
  const samples = [];
  let created = 0;
  let lastAt = Date.now();
  console.log(`\n${label}: ${N} objects, ${C} in flight; rss of workerd after every ${STEP}`);
  console.log("   objects  rss MiB     objects/s");
  while (created < N) {
    if (Date.now() > deadline) throw new Error(`${label}: time limit reached`);
    await pool(STEP, C, (i) => create(created + i));
    created += STEP;
    await settled(created, deadline);
    const now = Date.now();
    const sample = { objects: created, rss: rssOf(server), rate: STEP / ((now - lastAt) / 1000) };
    lastAt = now;
    samples.push(sample);
    console.log(
      `${String(sample.objects).padStart(10)}  ${sample.rss.toFixed(1).padStart(7)}  ${sample.rate.toFixed(1).padStart(12)}`,
    );
  }
  return samples;
}

/** Growth from the sample at BASELINE to the last, per 1,000 objects, and the drift the issue-14 target reads. */
function summarise(samples) {
  const base = samples.find((s) => s.objects >= BASELINE) ?? samples[0];
  const last = samples.at(-1);
  const after = samples.filter((s) => s.objects > base.objects).map((s) => s.rss);
  const pct = (v) => Number((((v - base.rss) / base.rss) * 100).toFixed(1));
  const round = (v) => Number(v.toFixed(1));
  return {
    baseline_objects: base.objects,
    rss_baseline_mib: round(base.rss),
    rss_last_mib: round(last.rss),
    rss_max_after_baseline_mib: after.length ? round(Math.max(...after)) : null,
    drift_last_pct: pct(last.rss),
    mib_per_1000:
      last.objects > base.objects ? Number(((last.rss - base.rss) / ((last.objects - base.objects) / 1000)).toFixed(2)) : null,
    objects_per_s_median: round(
      percentile(
        samples.map((s) => s.rate),
        50,
      ),
    ),
  };
}

async function ceilingSide() {
  const ceiling = await startCeiling(await freePort());
  try {
    return await soak("ceiling (new Durable Object per request)", ceiling, async () => {
      const res = await fetch(`${ceiling.base}/do-new`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`ceiling: ${res.status}`);
    });
  } finally {
    ceiling.stop();
  }
}

async function engineSide() {
  const sink = await startSink();
  const engine = await startEngine(await freePort());
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
    return await soak(
      "engine (one object per execution)",
      engine,
      async (i) => {
        const res = await api(engine.base, "POST", "/v1/automation/executions", {
          flow_id: flow.body.id,
          entity_id: `s-${i}`,
        });
        if (res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
      },
      async (started, deadline) => {
        while (done() < started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      },
    );
  } finally {
    engine.stop();
    sink.close();
  }
}

const results = {};
if (ONLY !== "engine") results.ceiling = await ceilingSide();
if (ONLY !== "ceiling") results.engine = await engineSide();

if (results.ceiling && results.engine) {
  console.log("\n   objects  ceiling MiB  engine MiB");
  results.ceiling.forEach((s, k) =>
    console.log(
      `${String(s.objects).padStart(10)}  ${s.rss.toFixed(1).padStart(11)}  ${results.engine[k].rss.toFixed(1).padStart(10)}`,
    ),
  );
}
const summary = { n: N, c: C, step: STEP, baseline: BASELINE };
for (const [side, samples] of Object.entries(results)) summary[side] = summarise(samples);
const [ours, theirs] = [summary.engine?.mib_per_1000, summary.ceiling?.mib_per_1000];
// A ceiling that did not grow (or shrank) gives no meaningful ratio; both figures are printed anyway.
if (ours != null && theirs != null) summary.engine_over_ceiling = theirs > 0 ? Number((ours / theirs).toFixed(2)) : null;
console.log(`\nsummary (MiB of workerd RSS per 1,000 objects from ${BASELINE} to ${N}, same sitting):`);
console.log(JSON.stringify(summary));
