/**
 * The bulk job state machine, pure: which statuses exist, which PATCH actions each allows, and what an
 * item's execution status counts as. The store applies the transitions with compare-and-set updates.
 *
 *   approval → querying_entities → entities_loaded → executing → monitoring → send_report → finished
 *   any status before finished → cancelled (CANCEL);  a job that cannot go on → failed
 */

export const BULK_JOB_STATUSES = [
  "approval",
  "querying_entities",
  "entities_loaded",
  "executing",
  "monitoring",
  "send_report",
  "finished",
  "failed",
  "cancelled",
] as const;
export type BulkJobStatus = (typeof BULK_JOB_STATUSES)[number];

export const FINAL_JOB_STATUSES: ReadonlySet<BulkJobStatus> = new Set(["finished", "failed", "cancelled"]);
export const isFinalJob = (s: BulkJobStatus): boolean => FINAL_JOB_STATUSES.has(s);

export type BulkJobAction = "APPROVE" | "CANCEL";

export type PatchDecision = { ok: true; next: BulkJobStatus } | { ok: false; status: 409; message: string };

/** What a PATCH does to a job in `status` (the token was checked before). Refusals change nothing. */
export function decidePatch(status: BulkJobStatus, action: BulkJobAction): PatchDecision {
  if (isFinalJob(status)) return { ok: false, status: 409, message: `The job is already ${status}` };
  if (action === "CANCEL") return { ok: true, next: "cancelled" };
  if (status !== "approval") return { ok: false, status: 409, message: `The job was already approved (it is ${status})` };
  return { ok: true, next: "querying_entities" };
}

/** Item statuses after which nothing changes for the item (the executions' own final statuses). */
export const FINAL_ITEM_STATUSES = ["success", "failed", "cancelled", "skipped", "hot"] as const;
export const isFinalItem = (s: string): boolean => (FINAL_ITEM_STATUSES as readonly string[]).includes(s);
/** SQL list of the final item statuses, for `execution_status NOT IN …` (constants only, no input). */
export const FINAL_ITEM_SQL = `(${FINAL_ITEM_STATUSES.map((s) => `'${s}'`).join(", ")})`;

/** The error text of an item whose record is missing (unknown id, another org's id, another schema). */
export const ENTITY_NOT_FOUND = "entity not found";

/** The execution page `seq` falls in, and the seq range of page `page`. */
export const pageOfSeq = (seq: number, pageSize: number): number => Math.floor(seq / pageSize);
export const seqRange = (page: number, pageSize: number): { from: number; to: number } => ({
  from: page * pageSize,
  to: (page + 1) * pageSize,
});
/** Number of execution pages for `total` items. */
export const pageCount = (total: number, pageSize: number): number => Math.ceil(total / pageSize);

/**
 * Executions of a job that run now: started and neither ended nor waiting (a delay, a schedule, a pause).
 * Items settled before a start (a missing record) count as dispatched and finished alike, so they cancel out.
 */
export const inFlight = (c: { items_dispatched: number; items_finished: number; items_waiting: number }): number =>
  Math.max(0, c.items_dispatched - c.items_finished - c.items_waiting);

/**
 * Whether a page of `size` items may start now within a window of `window` executions in flight. An
 * empty window always takes a page, so a page larger than the window cannot wait forever.
 */
export const pageFits = (running: number, size: number, window: number): boolean => running === 0 || running + size <= window;

/** Deferrals at the first wait: a busy window normally has room again within a few of them. */
export const STEADY_DEFERRALS = 5;

/**
 * Seconds a page waits after finding the window full `deferrals` times before: `first` for the first few
 * (the window drains at the pace executions end), then doubling up to `max` (executions are slow, e.g.
 * retries backing off, and polling often would only cost messages).
 */
export const deferSeconds = (deferrals: number, first: number, max: number): number =>
  deferrals < STEADY_DEFERRALS ? first : Math.min(max, first * 2 ** Math.min(deferrals - STEADY_DEFERRALS + 1, 16));

/** The error of a finished execution as an item error: `CODE: reason`, bounded. */
export function itemError(err: { error_code?: string; error_reason?: string } | null | undefined, max = 500): string | null {
  if (!err) return null;
  const text = [err.error_code, err.error_reason].filter(Boolean).join(": ");
  return text ? text.slice(0, max) : null;
}
