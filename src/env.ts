import type { ExecutionObjectRpc } from "./contracts/execution-object";
import type { FlowScheduleObjectRpc } from "./contracts/flow-schedule-object";

/** A Durable Object namespace typed by the object's RPC contract (src/contracts/), not by its class. */
type ObjectNamespace<Surface> = DurableObjectNamespace<Surface & Rpc.DurableObjectBranded>;

/** Bindings and vars of the Worker (see wrangler.toml). Secrets are optional so a missing one fails closed. */
export interface Env {
  DB: D1Database;
  EXECUTIONS: ObjectNamespace<ExecutionObjectRpc>;
  FLOW_SCHEDULES: ObjectNamespace<FlowScheduleObjectRpc>;
  EVENTS_QUEUE: Queue<unknown>;
  BULK_QUEUE: Queue<unknown>;
  /** Files of the platform resources (uploads, generated documents, e-mail attachments): key `<org_id>/<file_id>`. */
  FILES: R2Bucket;

  /** Superuser key (`x-key` or `Authorization: Bearer`). */
  ADMIN_API_KEY?: string;
  /** HS256 secret for JWTs. */
  JWT_SECRET?: string;
  /** JWKS URL for asymmetric JWTs. */
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** Base64 or passphrase from which the AES-GCM key for secrets at rest is derived. */
  ENCRYPTION_KEY?: string;
  /** Comma-separated earlier ENCRYPTION_KEY values: secrets they sealed still decrypt after a rotation. */
  ENCRYPTION_KEYS_PREVIOUS?: string;
  /** Comma-separated hosts outbound actions may reach although they are loopback or private. */
  ALLOWED_OUTBOUND_HOSTS?: string;
  /** Comma-separated host names of the engine itself (custom domain, workers.dev name): outbound calls to them are refused. */
  SELF_HOSTS?: string;
  /** Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`); a missing binding means no limit. */
  RL_AUTH_FAILURES?: RateLimit;
  RL_API_KEY?: RateLimit;
  RL_API_ORG?: RateLimit;
  RL_TRIGGER_KEY?: RateLimit;
  RL_TRIGGER_ORG?: RateLimit;
  /** Days executions are kept. */
  EXECUTION_RETENTION_DAYS?: string;
  /** Workers AI binding (optional; wrangler.toml `[ai] binding = "AI"`, docs/llm.md): an LLM provider without a connection. */
  AI?: Ai;
  /** Workers AI model used when the binding is configured (default in src/llm/providers.ts). */
  WORKERS_AI_MODEL?: string;
  /** "0" leaves an execution's first step to its alarm instead of running it right after start() answers (tests). */
  EXECUTION_INLINE_START?: string;
  /** ms a start path reuses a flow it read (src/store/flow-cache.ts); "0" turns the cache off. */
  FLOW_CACHE_TTL_MS?: string;
  /** "1" logs the D1 rows each write touched (benchmarks only; src/lib/d1-meter.ts). */
  D1_METER?: string;
}
