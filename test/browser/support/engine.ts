/**
 * Starts the engine the way a developer does (`npm run dev`, scripts/dev.mjs) on free loopback ports with a
 * fresh local database, and stops its whole process tree (npm → sh → dev.mjs → wrangler → workerd, esbuild)
 * afterwards. Other engines may run on this machine at the same time (8787, benchmark kits), so nothing here
 * uses a fixed port or the shared .wrangler/state.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSink, type Sink } from "./sink.ts";

/** scripts/dev.mjs supplies this admin key when none is passed. */
export const DEV_ADMIN_KEY = "dev-admin-key";
/**
 * A cold start (migrations, the assets build, bundling, workerd) takes 10–20 s on an idle 2-core machine and
 * two minutes when it is shared by several test runs.
 */
export const ENGINE_START_TIMEOUT_MS = 240_000;
/** How long the tree gets to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Lines of the engine's output kept for the error message of a failed start. */
const LOG_LINES = 200;

export interface Engine {
  /** e.g. http://127.0.0.1:41235 (no trailing slash). */
  baseUrl: string;
  adminKey: string;
  /** The outbound target for flows under test (allowed by the engine's outbound policy). */
  sink: Sink;
  /** Process group id of the engine's tree (the npm process leads it). */
  pgid: number;
  /** The engine's recent output, for diagnosing a failure. */
  logs(): string;
  /** Stops the whole process tree, closes the sink and removes the database directory. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port free right now on 127.0.0.1 (the OS picks it; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("freePort: no TCP address");
  return address.port;
}

/** Processes of a process group that are still running (zombies excluded: they hold no resources). */
export function liveProcessesInGroup(pgid: number): string[] {
  const table = execFileSync("ps", ["-eo", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  return table
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, stat]) => pid && Number(group) === pgid && !stat.startsWith("Z"))
    .map((cols) => cols.join(" "));
}

/**
 * Detached, an engine's tree outlives a test process that ends without stop() (a crash, a timed-out hook, a
 * missing afterAll). Each running engine is noted in the run's registry directory, which global-setup.ts
 * creates and, at the end of the run, clears by stopping whatever is still listed.
 */
export const REGISTRY_ENV = "ENGINE_BROWSER_REGISTRY";

async function registerEngine(pgid: number, persistDir: string): Promise<void> {
  const dir = process.env[REGISTRY_ENV];
  if (dir) await writeFile(join(dir, String(pgid)), persistDir);
}

async function unregisterEngine(pgid: number): Promise<void> {
  const dir = process.env[REGISTRY_ENV];
  if (dir) await rm(join(dir, String(pgid)), { recursive: true, force: true });
}

/** Stops an engine's tree by its process group id: SIGTERM, then SIGKILL after a grace period. */
export async function stopGroup(pgid: number): Promise<string[]> {
  signalGroup(pgid, "SIGTERM");
  if (!(await waitGroupGone(pgid, STOP_GRACE_MS))) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupGone(pgid, STOP_GRACE_MS);
  }
  return liveProcessesInGroup(pgid);
}

function signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (liveProcessesInGroup(pgid).length === 0) return true;
    await sleep(100);
  }
  return liveProcessesInGroup(pgid).length === 0;
}

export async function startEngine(): Promise<Engine> {
  const sink = await startSink();
  const persistDir = await mkdtemp(join(tmpdir(), "engine-browser-"));
  // ENGINE_BROWSER_PORT pins the engine's port (a machine shared with other dev servers hands each its own).
  const [port, inspectorPort] = [Number(process.env.ENGINE_BROWSER_PORT) || (await freePort()), await freePort()];
  const args = [
    "run",
    "dev",
    "--",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistDir,
    "--var",
    "ALLOWED_OUTBOUND_HOSTS:127.0.0.1,localhost",
  ];
  const child = spawn("npm", args, {
    // detached: the tree gets its own process group, so stop() can signal all of it at once.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // No prompts, colours, telemetry or update checks: the tests never reach the internet.
      CI: "true",
      FORCE_COLOR: "0",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      NO_UPDATE_NOTIFIER: "1",
    },
  });
  if (child.pid === undefined) throw new Error("npm run dev did not start");
  const pgid = child.pid;

  const lines: string[] = [];
  let readyUrl: string | undefined;
  const collect = (chunk: string) => {
    for (const line of chunk.split("\n")) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > LOG_LINES) lines.shift();
      // wrangler reports the address it actually bound: trust it over the port asked for.
      readyUrl ??= /Ready on (http:\/\/[^\s]+)/.exec(line)?.[1]?.replace(/\/$/, "");
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", collect);
  }
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited with ${signal ?? code}`));
  child.once("error", (err) => (exited = `failed: ${err.message}`));

  await registerEngine(pgid, persistDir);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const left = await stopGroup(pgid);
    await sink.close();
    await rm(persistDir, { recursive: true, force: true });
    await unregisterEngine(pgid);
    if (left.length > 0) throw new Error(`engine processes left after stop:\n${left.join("\n")}`);
  };
  const logs = () => lines.join("\n");

  const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`npm run dev ${exited} before answering. Output:\n${logs()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm run dev did not answer within ${ENGINE_START_TIMEOUT_MS} ms. Output:\n${logs()}`);
    }
    if (readyUrl) {
      const answer = await fetch(`${readyUrl}/`).catch(() => undefined);
      if (answer?.ok) {
        await answer.body?.cancel();
        return { baseUrl: readyUrl, adminKey: DEV_ADMIN_KEY, sink, pgid, logs, stop };
      }
    }
    await sleep(250);
  }
}

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

/**
 * Calls the engine's API as the admin of `org` (x-org-id), for setting up what a page then shows: tests
 * create flows and runs through the public API, as the console does.
 */
export function engineApi(engine: Pick<Engine, "baseUrl" | "adminKey">, org: string) {
  return async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${engine.adminKey}`, "x-org-id": org };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${engine.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: res.status, body: text };
    }
  };
}
