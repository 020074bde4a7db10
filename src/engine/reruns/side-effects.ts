/**
 * Side effects: what an action attempt does to the world beyond the execution itself. Every attempt row
 * carries the effects it caused (the ledger, docs/reruns.md); an action type also describes the effects a
 * rendered config would cause, so a rerun can be previewed without sending anything. Pure.
 */

export const SIDE_EFFECT_KINDS = [
  /** An outbound HTTP request (webhooks, custom actions). */
  "http",
  /** A call of a provider tool (Slack, HubSpot, generic HTTP ...). */
  "provider",
  /** An e-mail sent through a provider. */
  "email",
  /** A text message sent through a provider. */
  "sms",
  /** A call to a language model. */
  "model",
  /** A record written (created or updated), or a record shared with a partner organization. */
  "record",
  /** A file stored (a generated document). */
  "file",
  /** An execution started. */
  "execution",
  /** An event emitted to the events queue. */
  "event",
  /** An in-app notification written. */
  "notification",
] as const;
export type SideEffectKind = (typeof SIDE_EFFECT_KINDS)[number];

/**
 * Who drops a repeated effect: the receiver (it gets the idempotency key and may deduplicate), the engine
 * (the id of what it writes derives from the key, so a repeat changes nothing), or nobody (a repeat happens again).
 */
export type Dedupe = "receiver" | "engine" | "none";

/** Token usage of a model call. */
export interface TokenUsage {
  input?: number;
  output?: number;
  total?: number;
}

export interface SideEffect {
  kind: SideEffectKind;
  /** `host/path` of a request, `platform.tool` of a provider call, `schema` or `schema/id` of a record, `flow/<id>`, `event/<name>`, `user/<id>`, `provider/model`. */
  target: string;
  method?: string;
  /** The idempotency key the effect carries (null when it carries none). */
  idempotency_key: string | null;
  dedupe: Dedupe;
  // ---- known once the effect happened ----
  /** ok: done; failed: refused by the receiver; unknown: sent, answer not known (timeout, crash). */
  outcome?: "ok" | "failed" | "unknown";
  /** The receiver's HTTP status. */
  status?: number;
  tokens?: TokenUsage;
  /** What was written or started: a record id, an execution id, an event id, a notification id. */
  ref?: string;
  /** `create`, `update`, `upsert`, `start` ...; at run time what it turned out to be (`created`, `updated`, `existing`). */
  operation?: string;
  /** HTTP requests the effect took (a provider tool may make several). */
  requests?: number;
  note?: string;
}

/** `host/path` of a URL: no scheme, credentials or query (which may carry secrets). */
export function httpTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return url.split(/[?#]/, 1)[0].replace(/^[a-z]+:\/\//i, "");
  }
}

/** An HTTP request with the engine's idempotency header. */
export const httpEffect = (method: string, url: string, idempotencyKey: string): SideEffect => ({
  kind: "http",
  target: httpTarget(url),
  method,
  idempotency_key: idempotencyKey,
  dedupe: "receiver",
});

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** `{input_tokens, output_tokens, total_tokens}` as recorded by the AI steps (services/llm-usage.ts). */
function tokensOf(usage: unknown): TokenUsage | undefined {
  const u = obj(usage);
  if (!u) return undefined;
  const n = (k: string) => (typeof u[k] === "number" ? (u[k] as number) : undefined);
  return { input: n("input_tokens"), output: n("output_tokens"), total: n("total_tokens") };
}

/**
 * The effects an attempt's recorded request and response show, for an attempt whose action did not list them
 * (rows from before effects were recorded, or an action type that says nothing): a model call of an AI step
 * (`request.kind: "model_call"`, one effect per call in `response.calls`, with its tokens), a tool call of an
 * agent step (`request.kind: "tool_call"`; an execution started when the tool is a flow), or a request with a `url` (a list of them: a provider call's exchanges).
 */
export function effectsFromRequest(request: unknown, response?: unknown): SideEffect[] {
  const req = obj(request);
  const res = obj(response);
  if (req?.kind === "model_call") {
    const target = `${str(req.provider) ?? "model"}/${str(req.model) ?? "default"}`;
    const calls = Array.isArray(res?.calls) ? (res.calls as unknown[]).map(obj).filter((c) => c !== undefined) : null;
    const one = (key: string | undefined, usage: unknown): SideEffect => ({
      kind: "model",
      target,
      idempotency_key: key ?? null,
      // The key goes to the provider with the call (a provider that deduplicates drops a repeat).
      dedupe: key ? "receiver" : "none",
      ...(tokensOf(usage) ? { tokens: tokensOf(usage) } : {}),
    });
    return calls ? calls.map((c) => one(str(c.idempotency_key), c.usage)) : [one(str(req.idempotency_key), res?.usage)];
  }
  if (req?.kind === "tool_call" && typeof req.flow_id === "string") {
    // A flow tool: the run it started, its id derived from the step's key (a repeated step finds the same run).
    const data = obj(res?.data);
    return [
      {
        kind: "execution",
        target: `flow/${req.flow_id}`,
        operation: "start",
        idempotency_key: str(req.idempotency_key) ?? null,
        dedupe: "engine",
        ...(str(data?.execution_id) ? { ref: str(data?.execution_id) } : {}),
        ...(res && typeof res.success === "boolean" ? { outcome: res.success ? ("ok" as const) : ("failed" as const) } : {}),
      },
    ];
  }
  if (req?.kind === "tool_call") {
    return [
      {
        kind: "provider",
        target: `tool/${str(req.tool) ?? "unknown"}`,
        idempotency_key: str(req.idempotency_key) ?? null,
        dedupe: "none",
        ...(res && typeof res.success === "boolean" ? { outcome: res.success ? ("ok" as const) : ("failed" as const) } : {}),
      },
    ];
  }
  const list = Array.isArray(request) ? request : request ? [request] : [];
  const out: SideEffect[] = [];
  for (const r of list) {
    if (!r || typeof r !== "object") continue;
    const { url, method, headers } = r as { url?: unknown; method?: unknown; headers?: Record<string, unknown> };
    if (typeof url !== "string") continue;
    const key = headers && typeof headers["idempotency-key"] === "string" ? (headers["idempotency-key"] as string) : null;
    out.push({
      kind: "http",
      target: httpTarget(url),
      method: typeof method === "string" ? method : undefined,
      idempotency_key: key,
      dedupe: key ? "receiver" : "none",
    });
  }
  return out;
}
