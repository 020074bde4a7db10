// How late cron fires arrive, against their scheduled instants, under `wrangler dev` (workerd + Miniflare).
// Run by hand with Node 22:  npx node bench/cron-lateness.mjs [--flows 100] [--every 5] [--fires 300] [--warmup 10] [--max-seconds 120]
//
// Starts the engine (`npm run dev` on a free loopback port, scratch --persist-to directory) and an HTTP sink
// on 127.0.0.1, creates N flows whose 6-field cron fires every `every` seconds (staggered over the seconds
// of the period) and whose call_webhook action posts `{{ trigger.scheduled_at }}` and `{{ trigger.at }}` to
// the sink. The flows are enabled together; after a warm-up, the next `fires` scheduled fires are measured:
// the script waits for each of them (bounded by --max-seconds) and reports those that never arrived.
// Lateness = sink arrival − scheduled instant; "alarm" = when the schedule object fired (trigger.at) −
// scheduled instant; the rest is queue + execution + outbound call. Stops what it started.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const FLOWS = arg("flows", 100);
const EVERY = arg("every", 5);
const TARGET = arg("fires", 300);
const MAX_SECONDS = arg("max-seconds", 120);
const WARMUP_SECONDS = arg("warmup", 10);
const ADMIN_KEY = "cron-bench-key";
const root = resolve(import.meta.dirname, "..");

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createNetServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

// ---- sink -----------------------------------------------------------------------------------
const hits = [];
const sink = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const arrived = Date.now();
    try {
      hits.push({ arrived, key: req.headers["idempotency-key"], ...JSON.parse(body) });
    } catch {
      /* not ours */
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
});
await new Promise((r) => sink.listen(0, "127.0.0.1", r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;

// ---- engine ---------------------------------------------------------------------------------
const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), "cron-bench-"));
const child = spawn(
  "npm",
  [
    "run",
    "dev",
    "--",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--var",
    `ADMIN_API_KEY:${ADMIN_KEY}`,
    "--var",
    "ALLOWED_OUTBOUND_HOSTS:127.0.0.1",
    "--persist-to",
    dir,
  ],
  { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
let log = "";
let skippedInstants = 0;
const onOutput = (d) => {
  const text = String(d);
  // The schedule objects log the instants a late alarm skipped (fired once for the most recent only).
  for (const m of text.matchAll(/skipped (\d+) earlier instant/g)) skippedInstants += Number(m[1]);
  log = (log + text).slice(-20_000);
};
child.stdout.on("data", onOutput);
child.stderr.on("data", onOutput);
let stopped = false;
const exited = new Promise((r) => child.once("exit", r));
/** Stops the process group this script started (npm → dev.mjs → wrangler → workerd), then removes its files. */
async function stop() {
  if (stopped) return;
  stopped = true;
  sink.close();
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  await Promise.race([exited, sleep(5000)]);
  try {
    process.kill(-child.pid, "SIGKILL"); // whatever of the group is still there
  } catch {
    /* gone */
  }
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
}
process.on("SIGINT", () => void stop().then(() => process.exit(130)));

const base = `http://127.0.0.1:${port}`;
async function api(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "x-key": ADMIN_KEY, "x-org-id": "bench", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

try {
  const up = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/v1/automation/flows`, { headers: { "x-key": ADMIN_KEY } })).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > up) throw new Error(`engine did not start:\n${log.slice(-3000)}`);
    await sleep(500);
  }

  // ---- flows ------------------------------------------------------------------------------
  const t0 = Date.now();
  const ids = [];
  for (let i = 0; i < FLOWS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, FLOWS - i) }, (_, k) => {
        const n = i + k;
        const offset = n % EVERY; // staggered: flow n fires at seconds offset, offset+EVERY, ...
        return api("POST", "/v1/automation/flows", {
          flow_name: `cron-bench-${n}`,
          enabled: false, // enabled together below, so no backlog builds up while the others are created
          triggers: [{ id: "cron", type: "schedule", configuration: { cron: `${offset}-59/${EVERY} * * * * *` } }],
          actions: [
            {
              id: "hit",
              type: "call_webhook",
              config: {
                url: `${sinkUrl}/fire`,
                body: { flow: n, scheduled_at: "{{ trigger.scheduled_at }}", fired_at: "{{ trigger.at }}" },
              },
            },
          ],
        });
      }),
    );
    for (const r of batch) {
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
    }
  }
  const t1 = Date.now();
  for (let i = 0; i < ids.length; i += 20) {
    const res = await Promise.all(ids.slice(i, i + 20).map((id) => api("POST", `/v1/automation/flows/${id}/enable`)));
    for (const r of res) if (r.status !== 200) throw new Error(`enable failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const enabled = Date.now();
  // The window starts after a warm-up, once the first fires (and the engine's cold paths) are behind.
  const windowStart = enabled + WARMUP_SECONDS * 1000;
  console.log(
    `${FLOWS} flows created in ${t1 - t0} ms, enabled in ${enabled - t1} ms (cron every ${EVERY} s, staggered); ` +
      `warm-up ${WARMUP_SECONDS} s, then measuring...`,
  );
  await sleep(windowStart - Date.now());

  // ---- measure ----------------------------------------------------------------------------
  // The window: the instants (after the warm-up) that hold `fires` scheduled fires. Every
  // fire scheduled in it is waited for (up to the time bound), so a slow tail is measured, not cut off.
  const firstSecond = Math.ceil(windowStart / 1000) + 1;
  const window = [];
  for (let s = firstSecond; window.length < TARGET; s++) {
    for (let n = 0; n < FLOWS; n++) if (s % EVERY === n % EVERY) window.push(`${n} ${new Date(s * 1000).toISOString()}`);
  }
  const windowEnd = Date.parse(window[window.length - 1].split(" ")[1]);
  const expected = new Set(window);
  const inWindow = () => hits.filter((h) => expected.has(`${h.flow} ${h.scheduled_at}`));
  const deadline = windowStart + MAX_SECONDS * 1000;
  while (new Set(inWindow().map((h) => `${h.flow} ${h.scheduled_at}`)).size < expected.size && Date.now() < deadline) {
    await sleep(250);
  }
  // Disable the flows so nothing fires while the engine shuts down.
  await Promise.all(ids.map((id) => api("POST", `/v1/automation/flows/${id}/disable`).catch(() => undefined)));

  const m = inWindow();
  const late = m.map((h) => h.arrived - Date.parse(h.scheduled_at));
  const alarm = m.map((h) => Date.parse(h.fired_at) - Date.parse(h.scheduled_at));
  const keys = m.map((h) => `${h.flow} ${h.scheduled_at}`);
  const distinct = new Set(keys).size;
  // A repeat with the same idempotency key is the action's own retry (e.g. a call timed out under load);
  // a repeat with another key would be a second execution of one cron instant.
  const executions = new Set(m.map((h) => `${h.flow} ${h.scheduled_at} ${h.key}`)).size;
  const fmt = (xs) => (xs.length ? `p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms, max ${Math.max(...xs)} ms` : "none");
  console.log(
    `\nwindow: ${expected.size} fires scheduled over ${((windowEnd - firstSecond * 1000) / 1000 + 1).toFixed(0)} s by ${FLOWS} flows ` +
      `(${(FLOWS / EVERY).toFixed(0)} fires/s)`,
  );
  console.log(
    `arrived: ${distinct}, missing after waiting: ${expected.size - distinct}, ` +
      `second executions of one instant: ${executions - distinct}, retried calls (same idempotency key): ${keys.length - executions}`,
  );
  console.log(`lateness (sink arrival − scheduled): ${fmt(late)}`);
  console.log(`  of which alarm (object fired − scheduled): ${fmt(alarm)}`);
  const got = new Set(keys);
  const missingFlows = [...new Set([...expected].filter((k) => !got.has(k)).map((k) => Number(k.split(" ")[0])))];
  if (missingFlows.length) {
    // Were the missing fires started (an execution still retrying its call) or never started?
    const statuses = {};
    let runCount = 0;
    for (const n of missingFlows) {
      const list = await api("GET", `/v1/automation/executions?flow_id=${ids[n]}&size=100`);
      for (const e of list.body?.results ?? []) statuses[e.execution_status] = (statuses[e.execution_status] ?? 0) + 1;
      runCount += list.body?.total ?? 0;
    }
    console.log(`flows with missing fires: ${missingFlows.length}; their executions: ${runCount} ${JSON.stringify(statuses)}`);
    if (process.env.BENCH_DEBUG)
      console.log(
        log
          .split("\n")
          .filter((l) => /schedule|rror|fail/i.test(l))
          .slice(-30)
          .join("\n"),
      );
  }
  console.log(`machine load average (1 min) at the end: ${loadavg()[0].toFixed(1)}`);
  console.log(`instants skipped by late alarms (whole run, documented policy): ${skippedInstants}`);
  // A lateness that grows from the first to the last tenth of the window means the engine fell behind.
  const bySched = [...m].sort((a, b) => Date.parse(a.scheduled_at) - Date.parse(b.scheduled_at));
  const tenth = Math.max(1, Math.floor(bySched.length / 10));
  const median = (xs) =>
    pct(
      xs.map((h) => h.arrived - Date.parse(h.scheduled_at)),
      50,
    );
  console.log(
    `median lateness, first tenth of the window: ${median(bySched.slice(0, tenth))} ms, last tenth: ${median(bySched.slice(-tenth))} ms`,
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await stop();
}
