/**
 * A local HTTP sink standing in for every outbound target in tests. It runs in workerd as a Worker of its own
 * (test/support/sink-worker.ts), Miniflare's outbound service; it records every request and answers by path:
 *   /status/<code>           that status
 *   /retry-after/<seconds>   429 with Retry-After
 *   /flaky/<n>/<key>         500 for the first n calls with that key, then 200
 *   /slow/<ms>               200 after ms
 *   /redirect?to=<url>       302 to url
 *   /big/<bytes>             200 with a body of that size
 *   /delay/<ms>/<path…>      answers as /<path…> would, after ms (a slow vendor, model or MCP server)
 *   anything else            200 echoing the JSON body
 * Tests read and reset it through the SINK service binding (GET /__requests, POST /__reset), and wait for a
 * request to arrive (GET /__wait?path=<prefix>&timeout_ms=<cap>: 200 as soon as one under the prefix is
 * recorded, 408 at the cap) instead of polling.
 * Each pool worker (one workerd, see vitest.config.ts) has a sink of its own, so files running at the same
 * time in other workers neither see nor reset its requests.
 */

import { vendorAnswer } from "../integrations/vendors.ts";
import { llmAnswer } from "../llm/fake-llm.ts";
import { aiAnswer } from "../ai/sink-routes.ts";

export interface SinkRequest {
  method: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export interface Sink {
  /** Miniflare's outboundService: every outbound fetch of the Worker. */
  outbound: (request: Request) => Promise<Response>;
  /** The SINK service binding: GET /__requests, POST /__reset. */
  control: (request: Request) => Promise<Response>;
}

/** A sink with its own record of requests and flaky counters. */
export function createSink(): Sink {
  const requests: SinkRequest[] = [];
  const flakyCounts = new Map<string, number>();
  /** Tests waiting for a request under a path prefix (GET /__wait). */
  const waiters: { prefix: string; arrived: () => void }[] = [];

  function record(entry: SinkRequest): void {
    requests.push(entry);
    for (const w of waiters.filter((w) => entry.path.startsWith(w.prefix))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.arrived();
    }
  }

  /** Resolves true once a request under `prefix` was recorded (at once if one was), false after `capMs`. */
  function waitFor(prefix: string, capMs: number): Promise<boolean> {
    if (requests.some((r) => r.path.startsWith(prefix))) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        prefix,
        arrived: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        resolve(false);
      }, capMs);
      waiters.push(waiter);
    });
  }

  async function outbound(request: Request): Promise<Response> {
    let url = new URL(request.url);
    const body = await request.text();
    record({
      method: request.method,
      url: request.url,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      body,
      at: Date.now(),
    });
    const delayed = /^\/delay\/(\d+)(\/.*)$/.exec(url.pathname);
    if (delayed) {
      await new Promise((r) => setTimeout(r, Number(delayed[1])));
      url = new URL(delayed[2] + url.search, url.origin);
      request = new Request(url, { method: request.method, headers: request.headers, body: body || undefined });
    }
    // Scripted models and an MCP server for the AI steps' tests (test/ai/).
    const ai = await aiAnswer(request, url, body);
    if (ai) return ai;
    // Vendor-like answers for the integration providers' tests (slack, hubspot, gcal, resend, ...).
    const vendor = vendorAnswer(request, url, body);
    if (vendor) return vendor;
    // A fake LLM server (OpenAI-compatible, Anthropic, Ollama) for test/llm/.
    const llm = await llmAnswer(request, url, body);
    if (llm) return llm;
    const parts = url.pathname.split("/").filter(Boolean);
    switch (parts[0]) {
      case "status":
        return jsonResponse(Number(parts[1]), { status: Number(parts[1]) });
      case "retry-after":
        return jsonResponse(429, { error: "slow down" }, { "retry-after": parts[1] });
      case "flaky": {
        const key = parts.slice(2).join("/");
        const n = (flakyCounts.get(key) ?? 0) + 1;
        flakyCounts.set(key, n);
        return n <= Number(parts[1]) ? jsonResponse(500, { attempt: n }) : jsonResponse(200, { attempt: n });
      }
      case "slow":
        await new Promise((r) => setTimeout(r, Number(parts[1])));
        return jsonResponse(200, { slow: true });
      case "redirect":
        return new Response(null, { status: 302, headers: { location: url.searchParams.get("to") ?? "/" } });
      case "big":
        return new Response("x".repeat(Number(parts[1])), { status: 200, headers: { "content-type": "text/plain" } });
      default: {
        let parsed: unknown = body;
        try {
          parsed = body ? JSON.parse(body) : null;
        } catch {
          /* keep text */
        }
        return jsonResponse(200, { received: parsed, path: url.pathname });
      }
    }
  }

  async function control(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__reset") {
      requests.length = 0;
      flakyCounts.clear();
      return jsonResponse(200, { ok: true });
    }
    if (url.pathname === "/__requests") return jsonResponse(200, requests);
    if (url.pathname === "/__wait") {
      const seen = await waitFor(url.searchParams.get("path") ?? "/", Number(url.searchParams.get("timeout_ms") ?? 10_000));
      return jsonResponse(seen ? 200 : 408, { seen });
    }
    return jsonResponse(404, { error: "unknown sink control path" });
  }

  return { outbound, control };
}
