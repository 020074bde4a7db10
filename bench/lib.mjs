// Shared helpers of the benchmark scripts: start the engine under `wrangler dev` on loopback with a
// scratch persistence directory, a local HTTP sink, percentiles. Run the scripts with Node 22
// (`npx node bench/<script>.mjs`); they bound their own runtime and stop what they started.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ADMIN_KEY = "bench-admin-key";

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Starts the engine with `npm run dev` on `port`; resolves once it answers. */
export async function startEngine(port, extraVars = []) {
  const vars = ["--var", `ADMIN_API_KEY:${ADMIN_KEY}`, "--var", "ALLOWED_OUTBOUND_HOSTS:127.0.0.1", ...extraVars];
  return startDev("npm", ["run", "dev", "--"], port, vars, "engine");
}

/** Starts bench/ceiling (one new Durable Object per request) with the project's wrangler on `port`. */
export async function startCeiling(port) {
  const config = fileURLToPath(new URL("./ceiling/wrangler.toml", import.meta.url));
  return startDev("npx", ["wrangler", "dev", "--config", config], port, [], "ceiling");
}

/**
 * `command ...args --port --ip --persist-to <scratch> ...extra` in its own process group (its pid is the
 * group id `workerdPids` takes); resolves once `/` answers 200. `stop()` kills the group, removes the scratch.
 */
async function startDev(command, args, port, extra, what) {
  const dir = mkdtempSync(join(tmpdir(), `${what}-bench-`));
  args = [...args, "--port", String(port), "--ip", "127.0.0.1", "--persist-to", dir, ...extra];
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error(`${what} did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  function stop() {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { base, child, stop, log: () => log };
}

/**
 * An HTTP sink on 127.0.0.1 that records arrival time and JSON body of each request (on arrival, so a
 * request whose sender dies before the answer is still seen). `delayMs(hit)` holds the answer back.
 */
export async function startSink(onRequest = () => {}, { delayMs = () => 0 } = {}) {
  const hits = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
      const hit = { at: Date.now(), path: req.url, headers: req.headers, body: parsed };
      hits.push(hit);
      onRequest(hit);
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"ok":true}');
      }, delayMs(hit));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { hits, url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

export async function api(base, method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "x-key": ADMIN_KEY, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(workers);
}

/** The workerd processes started by `startDev` (same process group as `npm run dev` / `npx wrangler dev`). */
export function workerdPids(pgid) {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[2]) === pgid && comm.startsWith("workerd")) pids.push(Number(name));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** VmHWM (peak resident set) and VmRSS of a process, in MiB. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { hwm: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
  } catch {
    return { hwm: 0, rss: 0 };
  }
}
