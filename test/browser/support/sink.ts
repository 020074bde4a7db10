/**
 * A local HTTP server standing in for every outbound target of the engine under test: flows' HTTP actions
 * point at `sink.url`, tests read what arrived and make the next calls fail on purpose. It listens on a free
 * loopback port, which the engine is allowed to reach (startEngine passes ALLOWED_OUTBOUND_HOSTS).
 *
 * Answers: the next `failNext` statuses first; `/status/<code>` that status; `/flaky/<n>/<key>` 500 for the first n
 * calls with that key, then 200 (as the Workers tests' sink: one step of a loop failing once); `/ai/…` the
 * scripted model of the AI steps' tests (test/ai/scripted-model.ts); `/hubspot/…`, `/slack/…` the vendor fakes
 * (test/integrations/vendors.ts); anything else 200 echoing the request as JSON (`received`: the body parsed,
 * so a flow can loop over what it sent).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { scriptedModelAnswer } from "../../ai/scripted-model.ts";
import { vendorAnswer } from "../../integrations/vendors.ts";

export interface SinkRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The status the sink answered with. */
  status: number;
  at: number;
}

export interface Sink {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Every request received since start or the last reset, oldest first. */
  requests(): SinkRequest[];
  /** Answers the next `n` requests with `status` (500 unless told), whatever their path. */
  failNext(n: number, status?: number): void;
  /** Forgets the recorded requests, any pending failures and the `/flaky/` counters. */
  reset(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  req.setEncoding("utf8");
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

function flatHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/** The scripted model's or a vendor fake's answer (web Request/Response, as the Workers tests' sink has them), or null. */
async function fakeAnswer(req: IncomingMessage, path: string, body: string): Promise<Response | null> {
  const url = new URL(path, "http://127.0.0.1");
  const request = new Request(url, {
    method: req.method,
    headers: flatHeaders(req.headers),
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] === "ai") return scriptedModelAnswer(request, parts, body);
  if (parts[0] === "hubspot" || parts[0] === "slack") return vendorAnswer(request, url, body);
  return null;
}

/** The body as JSON, or null when it is empty or not JSON. */
function parseJson(body: string): unknown {
  try {
    return body ? (JSON.parse(body) as unknown) : null;
  } catch {
    return null;
  }
}

async function send(res: ServerResponse, answer: Response): Promise<number> {
  res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
  res.end(await answer.text());
  return answer.status;
}

export async function startSink(): Promise<Sink> {
  let recorded: SinkRequest[] = [];
  let failures: number[] = [];
  const flakyCounts = new Map<string, number>();

  const server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const path = req.url ?? "/";
      const fake = failures.length === 0 ? await fakeAnswer(req, path, body) : null;
      if (fake) {
        const status = await send(res, fake);
        recorded.push({ method: req.method ?? "GET", path, headers: flatHeaders(req.headers), body, status, at: Date.now() });
        return;
      }
      const forced = /^\/status\/(\d{3})(?:[/?]|$)/.exec(path);
      const flaky = /^\/flaky\/(\d+)\/([^?]+)/.exec(path);
      let flakyStatus: number | undefined;
      if (flaky && failures.length === 0) {
        const calls = (flakyCounts.get(flaky[2]) ?? 0) + 1;
        flakyCounts.set(flaky[2], calls);
        flakyStatus = calls <= Number(flaky[1]) ? 500 : 200;
      }
      const status = failures.shift() ?? flakyStatus ?? (forced ? Number(forced[1]) : 200);
      recorded.push({ method: req.method ?? "GET", path, headers: flatHeaders(req.headers), body, status, at: Date.now() });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: status < 400, method: req.method, path, body, received: parseJson(body) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("sink: no TCP address");

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests: () => [...recorded],
    failNext(n, status = 500) {
      failures.push(...Array.from({ length: n }, () => status));
    },
    reset() {
      recorded = [];
      failures = [];
      flakyCounts.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
