// CPU profile of the engine under load (issue 14): starts `npm run dev` with an inspector port, runs the
// peer-bench workload (a manual flow with two GETs to a local sink) N times with C in flight while
// workerd's V8 profiler samples, then prints the functions with the most self time, grouped by source
// file, and writes the raw .cpuprofile (open it in Chrome DevTools) to bench/out/.
// Usage: npx node bench/profile.mjs [N=400] [C=20] [workload=executions|webhooks|floor]
// `webhooks`: N signed webhook calls (Standard Webhooks) with C in flight; the profile covers the accept
// phase only (the events consumer runs alongside, as it does in production).
// `floor`: the same N starts against bench/floor (the design's durable I/O without the engine), so the two
// isolates' profiles compare (issue 29).
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import { api, pool, startEngine, startSink } from "./lib.mjs";

const N = Number(process.argv[2] ?? 400);
const C = Number(process.argv[3] ?? 20);
const WORKLOAD = process.argv[4] ?? "executions";
const SECRET = "whsec_YmVuY2gtd2ViaG9vay1zaWduaW5nLXNlY3JldA==";
const PER_ORG = 250; // under the per-endpoint and per-org trigger rate limits (wrangler.toml)

function signedCall(url, seq) {
  const body = JSON.stringify({ seq });
  const id = `msg_${seq}_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  const signature = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": signature,
    },
    body,
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  // wrangler's inspector proxy refuses upgrades without an Origin header.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: `http://127.0.0.1:${port}` } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** bench/floor under `wrangler dev` with the inspector on (the engine's startEngine runs `npm run dev`). */
async function startFloor(port, inspectorPort) {
  const root = resolve(import.meta.dirname, "..");
  const dir = mkdtempSync(join(tmpdir(), "floor-profile-"));
  const child = spawn(
    join(root, "node_modules/.bin/wrangler"),
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", dir],
    {
      cwd: join(root, "bench/floor"),
      detached: true,
      stdio: "ignore",
      env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(root, "bench/floor/.wrangler"), { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 180) {
      stop();
      throw new Error("the floor Worker did not start");
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await fetch(`${base}/setup`);
  return { base, stop };
}

const sink = await startSink();
const inspectorPort = await freePort();
const engine =
  WORKLOAD === "floor"
    ? await startFloor(await freePort(), inspectorPort)
    : await startEngine(await freePort(), ["--inspector-port", String(inspectorPort)]);
try {
  const step = (s) => ({
    id: `s_${s}`,
    type: "call_webhook",
    config: { method: "GET", url: `${sink.url}/?id={{ trigger.entity_id }}&step=${s}` },
  });
  let work;
  if (WORKLOAD === "webhooks") {
    const urls = [];
    for (let k = 0; k < Math.ceil((N + 40) / PER_ORG); k++) {
      const flow = await api(
        engine.base,
        "POST",
        "/v1/automation/flows",
        {
          flow_name: "profile webhook",
          triggers: [{ type: "webhook", configuration: { path: "p", secret: SECRET } }],
          actions: [step("done")],
        },
        { "x-org-id": `profile-${k}` },
      );
      if (flow.status !== 201) throw new Error(`flow: ${flow.status} ${JSON.stringify(flow.body)}`);
      urls.push(`${engine.base}/v1/webhooks/${flow.body.id}/p`);
    }
    let sent = 0;
    const call = async () => {
      const i = sent++;
      const status = await signedCall(urls[i % urls.length], i);
      if (status !== 202) throw new Error(`webhook: ${status}`);
    };
    await pool(40, 5, call); // warm-up
    work = () => pool(N, C, call);
  } else if (WORKLOAD === "floor") {
    const start = (i) =>
      fetch(`${engine.base}/create`, { method: "POST", body: JSON.stringify({ id: `p-${i}`, sink: sink.url }) }).then((r) =>
        r.text(),
      );
    await pool(40, 5, start); // warm-up
    const doneBefore = () => sink.hits.filter((h) => h.path.includes("step=done")).length;
    const before = doneBefore();
    work = async () => {
      await pool(N, C, (i) => start(1000 + i));
      const deadline = Date.now() + 120_000;
      while (doneBefore() < before + N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
  } else {
    const flow = await api(engine.base, "POST", "/v1/automation/flows", {
      flow_name: "profile two steps",
      triggers: [{ type: "manual" }],
      actions: [step("1"), step("done")],
      max_executions: { count: 1000000, window: "PT1M" },
    });
    if (flow.status !== 201) throw new Error(`flow: ${flow.status} ${JSON.stringify(flow.body)}`);
    const start = (i) => api(engine.base, "POST", "/v1/automation/executions", { flow_id: flow.body.id, entity_id: `p-${i}` });
    await pool(40, 5, start); // warm-up: JIT, D1 pages, object classes
    const doneBefore = () => sink.hits.filter((h) => h.path.includes("step=done")).length;
    const before = doneBefore();
    work = async () => {
      await pool(N, C, async (i) => {
        const res = await start(1000 + i);
        if (res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
      });
      const deadline = Date.now() + 120_000;
      while (doneBefore() < before + N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
  }

  const cdp = await inspector(inspectorPort);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  const t0 = Date.now();
  await work();
  const elapsed = Date.now() - t0;
  const { result } = await cdp.send("Profiler.stop");
  cdp.close();
  const profile = result.profile;
  mkdirSync("bench/out", { recursive: true });
  const file = `bench/out/profile-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));

  // Self time per node = its samples × the mean interval.
  const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length; // ms per sample
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const byFn = new Map();
  const byFile = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const n = counts.get(node.id) ?? 0;
    if (!n) continue;
    const f = node.callFrame;
    const src = (f.url || "(native)").replace(/^.*\/(node_modules\/)?/, "$1");
    const key = `${f.functionName || "(anonymous)"}  ${src}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + n);
    if (f.functionName !== "(idle)" && f.functionName !== "(program)") total += n;
    byFile.set(src, (byFile.get(src) ?? 0) + n);
  }
  const idle = (byFn.get("(idle)  (native):0") ?? 0) * dt;
  const top = (m, k) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, n]) =>
          `${(n * dt).toFixed(0).padStart(7)} ms ${((100 * n) / profile.samples.length).toFixed(1).padStart(5)}%  ${name}`,
      );
  console.log(`${WORKLOAD} ${N} with ${C} in flight in ${elapsed} ms; profile ${file}`);
  console.log(
    `JS isolate busy: ${(total * dt).toFixed(0)} ms = ${((total * dt) / N).toFixed(2)} ms per ${WORKLOAD === "webhooks" ? "webhook" : "execution"} (idle ${idle.toFixed(0)} ms)`,
  );
  console.log("\nself time by function:\n" + top(byFn, 40).join("\n"));
  console.log("\nself time by script:\n" + top(byFile, 15).join("\n"));
} finally {
  engine.stop();
  sink.close?.();
}
