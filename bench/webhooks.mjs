// Benchmark of inbound webhooks under `wrangler dev`: signed calls accepted per second (202s), and the
// latency from sending a webhook to its flow's first action reaching a target (webhook → queue →
// consumer → execution → action). Run by hand with Node 22:  npx node bench/webhooks.mjs
// Two phases: a burst (WEBHOOKS calls, CONCURRENCY at a time: throughput, and latency with a backlog), then
// paced calls (PACED calls at PACED_RATE per second: latency without a backlog).
// Options (environment): WEBHOOKS=1000 CONCURRENCY=20 PACED=100 PACED_RATE=5 PORT=0 (0 = a free port).
// HOLD=1 measures the intake alone (issue 29): the engine runs from a copy of wrangler.toml without the events
// queue's consumer, so accepted events wait in the queue and no execution shares workerd with the endpoint;
// only the 202s are measured.
// Bounded in count and time; it starts its own engine (npm run dev, with a throwaway --persist-to
// directory) and stops it when done.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const N = Number(process.env.WEBHOOKS ?? 1000);
// wrangler.toml rate-limits webhooks per endpoint (RL_TRIGGER_KEY, 300/min) and per org (RL_TRIGGER_ORG,
// 600/min): the calls are spread over endpoints in orgs of their own, each under both limits.
const PER_FLOW = 250;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const PACED = Math.min(Number(process.env.PACED ?? 100), PER_FLOW);
const PACED_RATE = Number(process.env.PACED_RATE ?? 5);
const HOLD = process.env.HOLD === "1";
const START_TIMEOUT_MS = 180_000;
const DRAIN_TIMEOUT_MS = 180_000;
const ADMIN_KEY = `bench-${randomUUID()}`;
const SECRET = "whsec_YmVuY2gtd2ViaG9vay1zaWduaW5nLXNlY3JldA==";
const root = resolve(import.meta.dirname, "..");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function sign(id, ts, body) {
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// The target of the flow's action: records when each webhook's action arrived.
const arrivals = new Map();
const sink = createServer((req, res) => {
  let data = "";
  req.on("data", (c) => (data += c));
  req.on("end", () => {
    const at = Date.now();
    try {
      const { seq, sent_at } = JSON.parse(data);
      if (!arrivals.has(seq)) arrivals.set(seq, at - Number(sent_at));
    } catch {
      /* not ours */
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise((r) => sink.listen(0, "127.0.0.1", r));
const sinkPort = sink.address().port;

const port = Number(process.env.PORT ?? 0) || (await freePort());
const dir = mkdtempSync(join(tmpdir(), "webhook-bench-"));
const logPath = join(dir, "dev.log");
const log = createWriteStream(logPath);
const args = ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--var", `ADMIN_API_KEY:${ADMIN_KEY}`];
args.push("--var", "ALLOWED_OUTBOUND_HOSTS:127.0.0.1", "--persist-to", join(dir, "state"));
// Next to wrangler.toml (its paths are relative to it); removed when the run ends.
const holdConfig = HOLD ? join(root, `.bench-hold-${process.pid}.wrangler.toml`) : null;
if (holdConfig) {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const held = toml.replace(/\[\[queues\.consumers\]\]\nqueue = "automation-events"\n(?:\w+ = .*\n)*/, "");
  if (held === toml) throw new Error("HOLD=1: the events queue's consumer is not in wrangler.toml");
  writeFileSync(holdConfig, held);
  args.push("--config", holdConfig);
}
// Its own process group, so stopping it stops wrangler and workerd with it.
const dev = spawn("npm", args, {
  cwd: root,
  detached: true,
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, CI: "true" },
});
dev.stdout.pipe(log);
dev.stderr.pipe(log);

let stopped = false;
function stop() {
  if (stopped) return;
  stopped = true;
  try {
    process.kill(-dev.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  sink.close();
}
process.on("SIGINT", () => {
  stop();
  process.exit(130);
});

const base = `http://127.0.0.1:${port}`;
const api = (method, path, body, org) =>
  fetch(`${base}${path}`, {
    method,
    headers: { "x-key": ADMIN_KEY, "x-org-id": org, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

try {
  const startedAt = Date.now();
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`npm run dev exited with ${dev.exitCode}`);
    if (Date.now() - startedAt > START_TIMEOUT_MS) throw new Error("the engine did not start in time");
    const ok = await fetch(`${base}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(500);
  }
  if (HOLD) console.log("HOLD=1: the events queue has no consumer; the intake alone is measured");
  console.log(`engine up on ${base} after ${((Date.now() - startedAt) / 1000).toFixed(1)} s; sink on 127.0.0.1:${sinkPort}`);

  const flowBody = {
    flow_name: "webhook bench",
    triggers: [{ type: "webhook", configuration: { path: "bench", secret: SECRET } }],
    actions: [
      {
        id: "hit",
        type: "call_webhook",
        config: {
          url: `http://127.0.0.1:${sinkPort}/hit`,
          body: { seq: "{{ trigger.body.seq }}", sent_at: "{{ trigger.body.sent_at }}" },
        },
      },
    ],
  };
  const urls = [];
  for (let k = 0; k < Math.ceil(N / PER_FLOW); k++) {
    const created = await api("POST", "/v1/automation/flows", flowBody, `bench-${k}`);
    if (created.status !== 201) throw new Error(`creating a flow: ${created.status} ${await created.text()}`);
    urls.push(`${base}/v1/webhooks/${(await created.json()).id}/bench`);
  }
  const url = urls[0];

  // Warm-up call (first request compiles and migrates), not counted.
  const warm = JSON.stringify({ seq: "warm", sent_at: Date.now() });
  const warmTs = Math.floor(Date.now() / 1000);
  const warmRes = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": "warm",
      "webhook-timestamp": String(warmTs),
      "webhook-signature": sign("warm", warmTs, warm),
    },
    body: warm,
  });
  if (warmRes.status !== 202) throw new Error(`warm-up webhook: ${warmRes.status} ${await warmRes.text()}`);

  /** One signed call; the body carries its sequence key and send time for the sink. */
  const acceptMs = { b: [], p: [] };
  async function send(target, seq) {
    const t0 = performance.now();
    const status = await sendOnce(target, seq);
    if (status === 202) acceptMs[seq[0]]?.push(performance.now() - t0);
    return status;
  }
  async function sendOnce(target, seq) {
    const body = JSON.stringify({ seq, sent_at: Date.now() });
    const id = `msg_${seq}_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(target, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(ts),
        "webhook-signature": sign(id, ts, body),
      },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }
  const count = (statuses, status) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  async function drain(prefix, expected) {
    const start = Date.now();
    const arrived = () => [...arrivals.keys()].filter((k) => k.startsWith(prefix)).length;
    while (arrived() < expected && Date.now() - start < DRAIN_TIMEOUT_MS) await sleep(200);
    return [...arrivals.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, ms]) => ms)
      .sort((a, b) => a - b);
  }
  const report = (label, latencies, accepted) =>
    console.log(
      `${label}: first action reached the target for ${latencies.length}/${accepted}; latency p50 ${percentile(latencies, 50)} ms, ` +
        `p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`,
    );

  // Phase 1: burst.
  const burst = new Map();
  let next = 0;
  const fireStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        count(burst, await send(urls[i % urls.length], `b${i}`));
      }
    }),
  );
  const fireSeconds = (performance.now() - fireStart) / 1000;
  const accepted = burst.get(202) ?? 0;
  const burstLatencies = HOLD ? [] : await drain("b", accepted);
  console.log(
    `\nburst: ${N} webhooks to ${urls.length} endpoints, ${CONCURRENCY} at a time; statuses ${JSON.stringify(Object.fromEntries(burst))}`,
  );
  console.log(`accepted (202): ${accepted} in ${fireSeconds.toFixed(2)} s → ${(accepted / fireSeconds).toFixed(1)} webhooks/s`);
  const acc = acceptMs.b.sort((a, b) => a - b);
  console.log(`burst: 202 latency p50 ${percentile(acc, 50).toFixed(1)} ms, p99 ${percentile(acc, 99).toFixed(1)} ms`);
  if (burstLatencies.length > 0) report("burst", burstLatencies, accepted);

  // Phase 2: paced, on an endpoint of its own (its rate limit is untouched by the burst).
  const paced = new Map();
  const pacedFlow = await api("POST", "/v1/automation/flows", flowBody, "bench-paced");
  if (pacedFlow.status !== 201) throw new Error(`creating a flow: ${pacedFlow.status} ${await pacedFlow.text()}`);
  const pacedUrl = `${base}/v1/webhooks/${(await pacedFlow.json()).id}/bench`;
  const inflight = [];
  for (let i = 0; i < PACED; i++) {
    inflight.push(send(pacedUrl, `p${i}`).then((status) => count(paced, status)));
    await sleep(1000 / PACED_RATE);
  }
  await Promise.all(inflight);
  const pacedLatencies = HOLD ? [] : await drain("p", paced.get(202) ?? 0);
  console.log(`\npaced: ${PACED} webhooks at ${PACED_RATE}/s; statuses ${JSON.stringify(Object.fromEntries(paced))}`);
  const pacc = acceptMs.p.sort((a, b) => a - b);
  if (pacc.length)
    console.log(`paced: 202 latency p50 ${percentile(pacc, 50).toFixed(1)} ms, p99 ${percentile(pacc, 99).toFixed(1)} ms`);
  if (pacedLatencies.length > 0) report("paced", pacedLatencies, paced.get(202) ?? 0);
} catch (err) {
  console.error(String(err));
  console.error(`--- last lines of ${logPath} ---`);
  console.error(readFileSync(logPath, "utf8").split("\n").slice(-40).join("\n"));
  process.exitCode = 1;
} finally {
  stop();
  await sleep(1000);
  rmSync(dir, { recursive: true, force: true });
  if (holdConfig) rmSync(holdConfig, { force: true });
}
