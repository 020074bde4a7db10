/** Hard limits of the engine. Each is enforced with a clear 4xx error and listed in docs/limits.md. */
export const LIMITS = {
  /** Largest request body the API accepts, in bytes (413 above). */
  MAX_REQUEST_BODY_BYTES: 1024 * 1024,
  /** Largest flow document, serialized, in bytes. */
  MAX_FLOW_BYTES: 256 * 1024,
  /** Most actions in one flow. */
  MAX_ACTIONS_PER_FLOW: 100,
  /** Most triggers in one flow. */
  MAX_TRIGGERS_PER_FLOW: 20,
  /** Most conditions / schedules in one flow. */
  MAX_CONDITIONS_PER_FLOW: 100,
  /** Longest flow or action name. */
  MAX_NAME_LENGTH: 200,
  /** Largest page a list endpoint returns. */
  MAX_PAGE_SIZE: 100,
  /** Default page size. */
  DEFAULT_PAGE_SIZE: 25,
  /** Most ids in one batch get. */
  MAX_BATCH_GET: 100,
  /** Largest record, serialized, in bytes. */
  MAX_RECORD_BYTES: 256 * 1024,
  /** Most API keys per organization. */
  MAX_API_KEYS_PER_ORG: 100,
  /** Longest template string (characters) the Liquid parser accepts (liquidjs parseLimit). */
  MAX_TEMPLATE_LENGTH: 64 * 1024,
  /** Largest output of one rendered template string, in characters (captures included). */
  MAX_TEMPLATE_OUTPUT_CHARS: 256 * 1024,
  /** liquidjs memoryLimit of one render: bounds loop ranges and string/array building. */
  MAX_TEMPLATE_MEMORY: 1_000_000,
  /** liquidjs renderLimit of one render, in ms (wall clock; workerd freezes time during CPU work, so the bounds above are the real guard). */
  MAX_TEMPLATE_RENDER_MS: 200,
  /** Deepest nesting of objects/arrays a template walk or a condition/filter document may have. */
  MAX_EXPRESSION_DEPTH: 32,
  /** Most parsed templates kept in the in-memory cache. */
  TEMPLATE_CACHE_SIZE: 1000,
  /** Most pattern nodes (leaves, nested objects, $or branches) in one filter_config. */
  MAX_FILTER_CONFIG_NODES: 500,
  /** Deepest nesting of objects/arrays inside a record's attribute values (SQLite's JSON functions stop at 1000). */
  MAX_RECORD_DEPTH: 32,
  /** Most top-level attributes of one record. */
  MAX_RECORD_ATTRIBUTES: 500,
  /** Longest attribute name. */
  MAX_ATTRIBUTE_NAME_LENGTH: 100,
  /** Longest record title. */
  MAX_RECORD_TITLE_LENGTH: 1000,
  /** Most tags on one record, and the longest tag. */
  MAX_RECORD_TAGS: 100,
  MAX_TAG_LENGTH: 200,
  /** Longest record search query string (`q`, `entities_query`). */
  MAX_QUERY_LENGTH: 2000,
  /** Most terms (field clauses and words) in one query string. */
  MAX_QUERY_TERMS: 30,
  /** Deepest nesting of parentheses / NOT in a query string, and of $and/$or/$not in a filter. */
  MAX_QUERY_DEPTH: 8,
  /** Most clauses, counted over all levels, in one EntitySearchFilter. */
  MAX_FILTER_CLAUSES: 50,
  /** Most values in one `terms` or `ids` clause (bound as one JSON parameter). */
  MAX_FILTER_VALUES: 1000,
  /** Most segments of a dotted field path (`address.city` has 2). */
  MAX_FIELD_PATH_SEGMENTS: 8,
  /** Most bound parameters the translated WHERE clause may use (D1 allows 100 per statement). */
  MAX_QUERY_SQL_PARAMS: 90,
  /** Times an update retries after losing a race with a concurrent write before answering 409. */
  MAX_RECORD_WRITE_RETRIES: 3,
  /** Most loops in one flow. */
  MAX_LOOPS_PER_FLOW: 20,
  /** Longest id a client may give a flow's trigger, action, condition, schedule or loop. */
  MAX_FLOW_ITEM_ID_LENGTH: 100,
  /** Longest flow description. */
  MAX_DESCRIPTION_LENGTH: 2000,
  /** Shortest and longest webhook / outbound signing secret, in characters. */
  MIN_SECRET_LENGTH: 16,
  MAX_SECRET_LENGTH: 1024,
  /** Most attempts of an action's retry policy, which is also the most backoff steps. */
  MAX_RETRY_ATTEMPTS: 10,
  /** Longest backoff step of a retry policy, in seconds. */
  MAX_RETRY_BACKOFF_SECONDS: 86_400,
  /** Bounds of an outbound webhook call's timeout, in milliseconds. */
  MIN_WEBHOOK_TIMEOUT_MS: 100,
  MAX_WEBHOOK_TIMEOUT_MS: 30_000,
  /** Highest concurrency_limit a flow may set. */
  MAX_FLOW_CONCURRENCY: 100,
  /** Most waiting executions of one flow started by one release (a raised or removed limit frees the rest over later releases). */
  ADMISSION_PROMOTE_CAP: 100,
  /** An admitted execution whose start is not confirmed after this long (ms) is started again by the reconciliation. */
  ADMISSION_START_GRACE_MS: 60_000,
  /** Most admission repairs of each kind per reconciliation run. */
  ADMISSION_RECONCILE_BATCH: 100,
  /** Flow control: most `concurrency` entries of a flow, the `concurrency_limit` short form included. */
  MAX_CONCURRENCY_KEYS: 2,
  /** Flow control: longest rendered key (concurrency, throttle, rate_limit, debounce, batch, singleton); longer ones are cut. */
  MAX_FLOW_CONTROL_KEY_LENGTH: 256,
  /** Flow control: highest `limit` of a throttle or rate_limit, and highest throttle `burst`. */
  MAX_FLOW_CONTROL_RATE: 10_000,
  /** Flow control: longest period of a throttle, rate_limit or debounce (and debounce `max_wait`, batch `timeout`), in ms (7 days). */
  MAX_FLOW_CONTROL_PERIOD_MS: 7 * 86_400_000,
  /** Flow control: most events one batch (or one debounce in `batch` mode) starts an execution with. */
  MAX_BATCH_SIZE: 100,
  /** Flow control: a `priority.run` value is clamped to ± this. */
  MAX_PRIORITY: 1_000,
  /** Flow control: a debounce or batch group caught flushing (its process died) is flushed again after this long, in ms. */
  FLOW_CONTROL_FLUSH_GRACE_MS: 60_000,
  /** Flow control: how long the members of a flushed group are kept to recognise a redelivered event, in ms (1 day). */
  FLOW_CONTROL_MEMBER_RETENTION_MS: 86_400_000,
  /** wait_for_event: longest `timeout`, in ms (365 days). */
  MAX_WAIT_TIMEOUT_MS: 365 * 86_400_000,
  /** wait_for_event: longest `lookback`, in ms (the event inbox keeps events this long: 7 days). */
  MAX_WAIT_LOOKBACK_MS: 7 * 86_400_000,
  /** wait_for_event: most event specs of one wait. */
  MAX_WAIT_SPECS: 5,
  /** wait_for_event: most earlier events one spec's lookback reads. */
  MAX_WAIT_LOOKBACK_EVENTS: 20,
  /** wait_for_event: most waiting executions one event is delivered to (the rest at its redelivery). */
  MAX_WAIT_DELIVERIES_PER_EVENT: 100,
  /** Deepest chain of flows starting flows (trigger-workflow, record events of update_record). */
  MAX_CHAIN_DEPTH: 10,
  /** Longest a synchronous API call (manual trigger, single action run) waits for an execution to settle, in ms. */
  MAX_SYNC_WAIT_MS: 10_000,
  /** How long an Idempotency-Key keeps returning the same execution, in ms (24 hours). */
  IDEMPOTENCY_WINDOW_MS: 24 * 60 * 60 * 1000,
  /** Largest inbound webhook body, in bytes (413 above): the event carrying it must fit one queue message (128 KB). */
  MAX_WEBHOOK_BODY_BYTES: 96 * 1024,
  /** Largest webhook event (body, query and headers as JSON) sent to the events queue, in bytes (413 above). */
  MAX_WEBHOOK_EVENT_BYTES: 120_000,
  /** How long a GitHub-signed delivery (no signed timestamp) is remembered against replays, in ms (24 hours). */
  WEBHOOK_REPLAY_WINDOW_MS: 24 * 60 * 60 * 1000,
  /** How far a signed webhook's timestamp may be from the server's clock, either way, in seconds. */
  WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: 300,
  /** How long a replaced webhook signing secret keeps verifying after a rotation, in ms (24 hours). */
  WEBHOOK_SECRET_OVERLAP_MS: 24 * 60 * 60 * 1000,
  /** Most replaced secrets of one webhook trigger that keep verifying at the same time (the newest are kept). */
  MAX_WEBHOOK_RETIRED_SECRETS: 3,
  /** Longest delivery id (webhook-id, X-GitHub-Delivery, Idempotency-Key) used as is in an event id; longer ones are hashed. */
  MAX_WEBHOOK_DELIVERY_ID_LENGTH: 200,
  /** Retention: rows one prune statement of the scheduled handler deletes (executions, idempotency keys, settled events). */
  PRUNE_BATCH: 1000,
  /** Retention: prune statements per table and scheduled run, so pruning keeps up with up to 10,000 rows a minute per table. */
  PRUNE_MAX_BATCHES: 10,
  /** Retention: how long a settled event stays in the inbox, in ms (7 days: far longer than a message can be retried). */
  INBOX_RETENTION_MS: 7 * 86_400_000,
  /** Reconciliation: an unfinished execution whose D1 summary has not changed for this long is checked for a live alarm, in ms. */
  STALE_EXECUTION_MS: 10 * 60_000,
  /** Reconciliation: most running executions (`pending`, `starting`, `in_progress`) checked per scheduled run; the rest follow in the next runs. */
  RECONCILE_BATCH: 100,
  /** Reconciliation: most `scheduled` executions checked per scheduled run; the sweep goes through all of them in turn and starts over. */
  RECONCILE_SCHEDULED_BATCH: 100,
  /** Reconciliation: execution objects asked at the same time. */
  RECONCILE_PARALLEL: 10,
  /** Reconciliation: a bulk job loading, executing or reporting that has not changed for this long is given its next message again, in ms. */
  STALE_BULK_JOB_MS: 2 * 60_000,
  /** Reconciliation: most bulk jobs looked at per scheduled run. */
  BULK_RECONCILE_BATCH: 50,
  /** Reconciliation: most unprocessed events looked at per scheduled run. */
  EVENT_RECONCILE_BATCH: 100,
  /** Reconciliation: most scheduled flows checked per scheduled run; more are covered over the following minutes. */
  SCHEDULE_RECONCILE_BATCH: 200,
  /** Execution storage: largest stored outputs of one action, serialized, in bytes; over it they are cut and marked `truncated`. */
  MAX_ACTION_OUTPUT_BYTES: 256 * 1024,
  /** Execution storage: largest stored outputs of one loop iteration, in bytes; over it they are cut and marked `truncated`. */
  MAX_ITERATION_OUTPUT_BYTES: 32 * 1024,
  /** Execution storage: largest stored error output (`error_output`, `last_error`), in bytes; over it, it is cut. */
  MAX_ERROR_OUTPUT_BYTES: 8 * 1024,
  /** Execution view: loop iterations shown per action by getExecution (`iterations_total` gives the count; the rest are paged). */
  MAX_ITERATIONS_IN_VIEW: 100,
  /** Execution view: attempts shown per action by getExecution (the latest; `attempts_total` gives the count). */
  MAX_ATTEMPTS_IN_VIEW: 100,
  /** Bulk jobs: records per page of executions started by one `bulk` queue message. */
  BULK_PAGE_SIZE: 100,
  /** Bulk jobs: record ids loaded (selected and stored as job items) by one `bulk` queue message. */
  BULK_LOAD_PAGE_SIZE: 1000,
  /** Bulk jobs: executions one page starts concurrently. */
  BULK_START_CONCURRENCY: 25,
  /** Bulk jobs: executions of one job running at once (started, not yet ended or waiting); further pages wait for room. */
  BULK_MAX_IN_FLIGHT: 300,
  /** Bulk jobs: seconds an execution page first waits before it looks for room in the window again (doubling each time). */
  BULK_DEFER_SECONDS: 2,
  /** Bulk jobs: longest wait of an execution page for room in the window, in seconds. */
  BULK_DEFER_MAX_SECONDS: 30,
  /** Bulk reruns: most executions one job reruns (a larger selection is refused at creation). */
  MAX_BULK_RERUN_EXECUTIONS: 500,
  /** Bulk reruns: executions previewed at the same time when a job is created. */
  BULK_RERUN_PREVIEW_CONCURRENCY: 10,
  /** Bulk jobs: most `entities_refs` in one request (larger selections use a query or a filter). */
  MAX_BULK_ENTITY_REFS: 1000,
  /** Bulk jobs: most records one job may select (a larger selection is refused at creation, or fails the job while loading). */
  MAX_BULK_RECORDS_PER_JOB: 50_000,
  /** Bulk jobs: largest `execution_summary` page of getBulkJob. */
  MAX_BULK_SUMMARY_PAGE: 1000,
  /** Bulk jobs: most failed items listed in the report record (the count covers all of them). */
  MAX_BULK_REPORT_FAILED_ITEMS: 500,
  /** Most connections per organization. */
  MAX_CONNECTIONS_PER_ORG: 200,
  /** Largest connection config, serialized, in bytes. */
  MAX_CONNECTION_CONFIG_BYTES: 16 * 1024,
  /** Timeout of one call to a provider's API, in milliseconds. */
  PROVIDER_TIMEOUT_MS: 15_000,
  /** Largest `data` of a provider result kept in an action's outputs or returned by execute/tools, in bytes. */
  MAX_PROVIDER_RESULT_BYTES: 64 * 1024,
  /** Most execution objects one request reads at once (Coherence's logs page): the rest wait for a free slot. */
  MAX_PARALLEL_EXECUTION_READS: 10,
  /** Most tools one conversation may auto-approve (auto_approve_tools). */
  MAX_AUTO_APPROVE_TOOLS: 100,
  /** Longest tool name, notification title and notification message. */
  MAX_TOOL_NAME_LENGTH: 200,
  MAX_NOTIFICATION_TITLE_LENGTH: 500,
  MAX_NOTIFICATION_MESSAGE_LENGTH: 5000,
  /** Most items a looped action iterates over (more fails the action with INVALID_PAYLOAD when the loop starts). */
  MAX_LOOP_ITEMS: 1000,
  /** Hot-flow limit of a flow without `max_executions`: executions started per window beyond this are created `hot` and not run. */
  DEFAULT_HOT_FLOW_MAX_EXECUTIONS: 1000,
  /** Window of the default hot-flow limit (ISO-8601 duration). */
  DEFAULT_HOT_FLOW_WINDOW: "PT1M",
  /** Longest hot-flow window a flow may set, in ms (7 days): longer windows are capped to this. */
  MAX_HOT_FLOW_WINDOW_MS: 7 * 24 * 60 * 60 * 1000,
  /** How long a start path (API start, events consumer, webhook endpoint) reuses a flow it read, in ms; FLOW_CACHE_TTL_MS overrides it, "0" turns it off. A write in the same isolate drops the entry at once; one in another isolate is seen within this time. */
  FLOW_CACHE_TTL_MS_DEFAULT: 2000,
  /** Longest FLOW_CACHE_TTL_MS accepted, in ms (larger values are capped to it). */
  MAX_FLOW_CACHE_TTL_MS: 60_000,
  /** Most flows (and, separately, webhook targets) one isolate keeps in its flow cache; the oldest go first. */
  FLOW_CACHE_MAX_ENTRIES: 500,
  /** Secrets re-encrypted by one call of the re-encryption endpoint (it reports how many remain). */
  REENCRYPT_BATCH_SIZE: 200,
  /** Largest event sent inline on the events queue, in bytes; larger ones are stored in D1 and referenced (queue messages are capped at 128 KB). */
  MAX_INLINE_EVENT_BYTES: 100_000,
  /** Retention: days a finished execution is kept (D1 rows and object storage) when EXECUTION_RETENTION_DAYS is not set. */
  EXECUTION_RETENTION_DAYS_DEFAULT: 30,
  /** Action runs per alarm invocation of an execution before the object yields (re-arms its alarm) to stay within CPU limits. */
  MAX_RUNS_PER_INVOCATION: 10,
  /** Wall-clock budget of one alarm invocation of an execution, in ms, checked between action runs. */
  INVOCATION_BUDGET_MS: 15_000,
  /** Real-time delay of the alarm kept armed while an invocation runs, in ms, so a crashed invocation is resumed. */
  WATCHDOG_MS: 60_000,
  /** How long a running execution's status change may wait to be written to D1 (a short run writes once, when it finishes). */
  SUMMARY_DEFER_MS: 1_000,
  /** How long a start reuses this isolate's last hot-flow count while far under the limit (services/hot-flows.ts), in ms. */
  HOT_COUNT_CACHE_MS: 1_000,
  /** Outbound calls: timeout of a call that sets none, in ms (MAX_WEBHOOK_TIMEOUT_MS bounds the ones that do). */
  OUTBOUND_DEFAULT_TIMEOUT_MS: 10_000,
  /** Outbound calls: redirects followed, each hop checked against the outbound policy again. */
  OUTBOUND_MAX_REDIRECTS: 3,
  /** Outbound calls: longest response body kept in the run history, in bytes; longer bodies are cut and flagged. */
  MAX_CAPTURED_BODY_BYTES: 64 * 1024,
  /** Timeout of the failure notification sent to a flow's `error_handling.notify_url`, in ms. */
  FAILURE_NOTIFICATION_TIMEOUT_MS: 5_000,
  /** Circuit breaker: consecutive failed executions that disable a flow when it sets no `error_handling.disable_after_failures`. */
  DEFAULT_DISABLE_AFTER_FAILURES: 5,
  /** Schedules: real-time delay before a failed schedule alarm runs again, in ms. */
  SCHEDULE_ALARM_RETRY_MS: 5_000,
  /** Schedules: forward steps walked from a missed cron instant to the most recent one before jumping with croner's previousRuns. */
  MAX_CRON_CATCHUP_STEPS: 50,
  /** Rate limits: the `simple.period` of every limiter in wrangler.toml, in seconds; a refused client retries after it. */
  RATE_LIMIT_PERIOD_SECONDS: 60,
  /** Rate limits: client IPs one isolate remembers as blocked for bad credentials (the oldest are forgotten first). */
  MAX_BLOCKED_AUTH_CLIENTS: 10_000,
  /** Planner: subrequests (outbound fetches) one Workers invocation may make on the Free plan (developers.cloudflare.com/workers/platform/limits); over it, a warning. */
  WORKERS_FREE_SUBREQUESTS: 50,
  /** Planner: subrequests one invocation may make on the Paid plan; one action run needing more is refused on save. */
  WORKERS_PAID_SUBREQUESTS: 10_000,
  /** Planner: worst-case action runs of one execution above which a flow is warned about. */
  PLAN_WARN_ACTION_RUNS: 10_000,
  /** Planner: worst-case model tokens of one execution above which a flow is warned about. */
  PLAN_WARN_MODEL_TOKENS: 1_000_000,
  /** Ledger: most side effects one page of `GET /executions/{id}/effects` returns (and its default). */
  MAX_LEDGER_PAGE: 1000,
  /** Dry run: most engine steps (one per action call, wake-up or start) simulated; a longer run is previewed as incomplete. */
  MAX_DRY_RUN_STEPS: 10_000,
  /** Agents: shortest `schedule_config.interval`, in seconds (agent crons have minute precision too). */
  MIN_AGENT_INTERVAL_SECONDS: 60,
  /** Agents: longest `schedule_config.interval`, in seconds (one year). */
  MAX_AGENT_INTERVAL_SECONDS: 366 * 86_400,
  /** Agents: most missed runs a `catch_up: "all"` agent replays at once (the most recent ones). */
  MAX_AGENT_CATCHUP_RUNS: 10,
  /** Agents: largest `agent_config` or execute input, serialized, in bytes. */
  MAX_AGENT_CONFIG_BYTES: 16 * 1024,
  /** Agents: most agents per organization. */
  MAX_AGENTS_PER_ORG: 500,
  /** Agents: longest analytics window, in days. */
  MAX_AGENT_ANALYTICS_DAYS: 90,
  /** Most variables a manual trigger declares (its MCP tool's arguments). */
  MAX_FLOW_VARIABLES: 50,
  /** MCP: most flows listed as tools (enabled flows with a manual trigger, newest first). */
  MAX_MCP_FLOW_TOOLS: 100,
  /** MCP: runs per page of `resources/list` (newest first). */
  MCP_RUNS_PAGE_SIZE: 50,
  /** LLM: timeout of one call to a model when its connection sets no `timeout_ms`, in ms (the whole answer, streamed or not). */
  LLM_DEFAULT_TIMEOUT_MS: 120_000,
  /** LLM: longest `timeout_ms` an LLM connection may set, in ms. */
  LLM_MAX_TIMEOUT_MS: 300_000,
  /** LLM chat: rounds of tool calls one message may run; a model still calling tools after them ends the turn `incomplete`. */
  LLM_MAX_TOOL_STEPS: 8,
  /** LLM chat: most tool calls the model may ask for in one round (the rest are answered with an error, not run). */
  LLM_MAX_TOOL_CALLS_PER_STEP: 10,
  /** LLM chat: most earlier messages of the conversation sent to the model as context. */
  LLM_HISTORY_MESSAGES: 50,
  /** LLM chat: longest tool result sent back to the model, in characters (the stored message keeps the whole result). */
  LLM_MAX_TOOL_RESULT_CHARS: 16_000,
  /** LLM workflow generation: repairs asked for after an invalid proposal before the request is refused with 422. */
  LLM_MAX_REPAIR_ATTEMPTS: 3,
  /** LLM chat: longest message `content`, in characters. */
  MAX_MESSAGE_LENGTH: 32_000,
  /** LLM chat: most messages (user, assistant and tool) one conversation may hold. */
  MAX_MESSAGES_PER_CONVERSATION: 2000,
  /** LLM chat: most conversations per organization. */
  MAX_CONVERSATIONS_PER_ORG: 10_000,
  /** LLM chat: how long a turn holds its conversation (one answer at a time), in ms; a crashed turn's hold lapses after it. */
  CONVERSATION_TURN_LEASE_MS: 10 * 60_000,
  /** Plans: requests per UTC day of an organization on the free plan (429 with Retry-After until the next UTC midnight above). */
  FREE_PLAN_DAILY_REQUESTS: 100,
  /** Plans: requests per UTC day of an organization on the pro plan. */
  PRO_PLAN_DAILY_REQUESTS: 10_000,
  /** Plans: how long an isolate trusts the organization's plan it read (an org without a plan costs one read per this). */
  PLAN_CACHE_TTL_MS: 60_000,
  /** Plans: organizations whose plan one isolate remembers (the oldest are forgotten first). */
  MAX_PLAN_CACHE_ENTRIES: 10_000,
  /** Plans: days of request counts the usage endpoint shows. */
  PLAN_USAGE_HISTORY_DAYS: 30,
  /** AI steps: model tokens (input + output) per UTC day of an organization on the free plan; over it AI steps fail BUDGET_EXCEEDED. */
  FREE_PLAN_DAILY_LLM_TOKENS: 50_000,
  /** AI steps: model tokens per UTC day of an organization on the pro plan. */
  PRO_PLAN_DAILY_LLM_TOKENS: 2_000_000,
  /** AI steps: `max_output_tokens` of one model call, at most (and the default when a step sets none). */
  AI_MAX_OUTPUT_TOKENS: 16_384,
  /** AI steps: `max_total_tokens` of one action, at most. */
  AI_MAX_TOTAL_TOKENS: 10_000_000,
  /** ai_agent: model calls one action may make (`max_steps` at most; its default is AI_AGENT_DEFAULT_STEPS). */
  AI_AGENT_MAX_STEPS: 50,
  /** ai_agent: model calls when the step sets no `max_steps`. */
  AI_AGENT_DEFAULT_STEPS: 10,
  /** ai_agent: tools one step may name. */
  AI_AGENT_MAX_TOOLS: 64,
  /** ai_agent: size of the transcript carried between steps (serialized bytes); a loop that outgrows it fails. */
  AI_AGENT_MAX_PROGRESS_BYTES: 512 * 1024,
  /** ai_agent: longest tool result or model text kept in an action's `steps` output, in characters. */
  AI_AGENT_STEP_TEXT_CHARS: 2_000,
  /** AI steps: longest `output_schema`, serialized, in bytes. */
  AI_MAX_OUTPUT_SCHEMA_BYTES: 32 * 1024,
  /** MCP tools: timeout of one request to a remote MCP server when its connection sets none, in ms. */
  MCP_DEFAULT_TIMEOUT_MS: 30_000,
  /** MCP tools: how long an isolate keeps a server's tool list (GET /v1/tools, agent steps) before listing again. */
  MCP_TOOLS_CACHE_TTL_MS: 60_000,
  /** MCP tools: most tools taken from one server (the rest are left out of the catalog). */
  MAX_MCP_TOOLS_PER_SERVER: 100,
  /** `GET /v1/usage/llm`: most days it reports. */
  LLM_USAGE_MAX_DAYS: 90,
  /** Platform files: largest file, in bytes (413 above). An upload is a request body too: with multipart's framing it must also fit MAX_REQUEST_BODY_BYTES. */
  MAX_FILE_BYTES: 1024 * 1024,
  /** Platform files: longest file name, in characters. */
  MAX_FILENAME_LENGTH: 255,
  /** Platform e-mail: most attachments one sent e-mail carries (send-email, reply-email, forward-email). */
  MAX_EMAIL_ATTACHMENTS: 20,
  /** Platform e-mail: largest total size of one sent e-mail's attachments, in bytes (the action fails above). */
  MAX_EMAIL_ATTACHMENT_BYTES: 10 * 1024 * 1024,
  /** Platform e-mail: most attachments of one inbound e-mail stored in FILES (the intake refuses more with 400). */
  MAX_INBOUND_ATTACHMENTS: 20,
  /** Platform documents: most pages of one generated PDF (the action fails above). */
  MAX_DOCUMENT_PAGES: 50,
  /** Platform webhook targets: most extra headers of one target. */
  MAX_WEBHOOK_TARGET_HEADERS: 20,
  /** Platform webhook targets: most related records (`entity_sources`) sent with the entity. */
  MAX_WEBHOOK_RELATIONS: 50,
  /** Platform mapping: most targets of one mapping config. */
  MAX_MAPPING_TARGETS: 20,
  /** Platform cart-checkout: most line items of one cart. */
  MAX_CART_LINE_ITEMS: 500,
  /** Platform resources: most of each kind (files excepted) per organization (409 above). */
  MAX_PLATFORM_RESOURCES_PER_ORG: 1000,
} as const;
