// Admission cost per start with flow control set and without (issue 26): the same empty flow started N
// times through POST /v1/automation/executions, (a) without flow control, (b) with a concurrency bound
// per key, (c) with a concurrency bound per key, a throttle, a rate limit and a priority — limits high
// enough that no start waits or is skipped, so the difference is the admission step itself (its D1 batch,
// the confirmation and the release at the finish). Reports per scenario the start request's latency
// (sequential: p50/p95/p99), starts per second with `concurrency` in flight, and D1 rows written per
// execution (D1_METER: D1's own rows_written, index writes included). The scenarios take turns in rounds.
//
//   npx node bench/admission.mjs [N=300] [concurrency=8] [port=8789]
import { api, percentile, pool, startEngine } from "./lib.mjs";

const N = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const PORT = Number(process.argv[4] ?? 8789);

const SCENARIOS = {
  none: {},
  concurrency_per_key: { concurrency: [{ limit: 100, key: "{{ trigger_event.entity_id }}" }] },
  all_rules: {
    concurrency: [{ limit: 100, key: "{{ trigger_event.entity_id }}" }],
    throttle: { limit: 10_000, period: "1m", burst: 10_000 },
    rate_limit: { limit: 10_000, period: "1h" },
    priority: { run: "1" },
  },
};

/** D1 rows written since `mark` (the engine's log offset): the sum of the meter's lines. */
const rowsWritten = (log, mark) =>
  [...log.slice(mark).matchAll(/d1-meter rows_written=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

async function waitAllFinal(base, flowId, count) {
  for (let i = 0; i < 600; i++) {
    const page = await api(base, "GET", `/v1/automation/executions?flow_id=${flowId}&size=1`);
    const done = await api(base, "GET", `/v1/automation/flows/${flowId}`);
    if (page.body.total >= count && done.body.runs >= count) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`flow ${flowId}: not all ${count} executions finished`);
}

const ROUNDS = 4;
const engine = await startEngine(PORT, ["--var", "D1_METER:1"]);
try {
  const flows = {};
  const stats = {};
  for (const [name, flowControl] of Object.entries(SCENARIOS)) {
    const flow = await api(engine.base, "POST", "/v1/automation/flows", {
      flow_name: `bench admission ${name}`,
      triggers: [{ type: "manual" }],
      actions: [],
      ...(Object.keys(flowControl).length ? { flow_control: flowControl } : {}),
    });
    if (flow.status !== 201) throw new Error(`flow: ${flow.status} ${JSON.stringify(flow.body)}`);
    flows[name] = { id: flow.body.id, started: 0 };
    stats[name] = { latencies: [], rows: 0, seconds: 0, parallel: 0 };
  }
  const start = async (name, i, tag) => {
    const t = performance.now();
    const res = await api(engine.base, "POST", "/v1/automation/executions", {
      flow_id: flows[name].id,
      entity_id: `${tag}-${i}`,
    });
    if (res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
    flows[name].started++;
    return performance.now() - t;
  };
  // Warm-up (isolates, the flow cache), not counted.
  for (const name of Object.keys(SCENARIOS)) {
    for (let i = 0; i < 20; i++) await start(name, i, "warm");
    await waitAllFinal(engine.base, flows[name].id, flows[name].started);
  }
  // The scenarios take turns, a round each, so that a machine whose load changes weighs on all alike.
  const per = Math.ceil(N / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(SCENARIOS)) {
      const s = stats[name];
      const mark = engine.log().length;
      for (let i = 0; i < per; i++) s.latencies.push(await start(name, i, `seq${round}`));
      await waitAllFinal(engine.base, flows[name].id, flows[name].started);
      s.rows += rowsWritten(engine.log(), mark);
      const t0 = performance.now();
      await pool(per, CONCURRENCY, (i) => start(name, i, `par${round}`));
      s.seconds += (performance.now() - t0) / 1000;
      s.parallel += per;
      await waitAllFinal(engine.base, flows[name].id, flows[name].started);
    }
  }
  const out = {};
  for (const [name, s] of Object.entries(stats)) {
    out[name] = {
      start_ms: {
        p50: +percentile(s.latencies, 50).toFixed(2),
        p95: +percentile(s.latencies, 95).toFixed(2),
        p99: +percentile(s.latencies, 99).toFixed(2),
      },
      starts_per_s: +(s.parallel / s.seconds).toFixed(1),
      d1_rows_written_per_execution: +(s.rows / s.latencies.length).toFixed(2),
    };
  }
  console.log(
    JSON.stringify({ starts_per_scenario: per * ROUNDS, concurrency: CONCURRENCY, rounds: ROUNDS, scenarios: out }, null, 2),
  );
} finally {
  engine.stop();
}
