import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { LIMITS } from "../lib/limits";
import {
  listStaleExecutionsPage,
  markExecutionLost,
  pruneExecutions,
  pruneIdempotencyKeys,
  type StaleExecutionRow,
} from "../store/executions";
import { pruneInbox } from "../store/event-inbox";
import { pruneWebhookDeliveries } from "../store/webhook-deliveries";
import { getReconcileCursor, setReconcileCursor } from "../store/reconcile-cursors";
import { executionClient } from "./object-clients";
import { runStep, type ReconcileError } from "./reconcile-step";

/**
 * The two sweeps over unfinished executions, each with its own cursor and batch, so a backlog of
 * scheduled executions (which may wait for days) never delays the repair of a running one. `paused`
 * executions are in neither: they wait for a resume call and hold no alarm.
 */
export const EXECUTION_SWEEPS = [
  { name: "executions.running", statuses: ["pending", "starting", "in_progress"], batch: () => LIMITS.RECONCILE_BATCH },
  { name: "executions.scheduled", statuses: ["scheduled"], batch: () => LIMITS.RECONCILE_SCHEDULED_BATCH },
] as const;

type Sweep = (typeof EXECUTION_SWEEPS)[number];

/**
 * Runs a prune statement until it deletes less than a batch, at most PRUNE_MAX_BATCHES times: a busy
 * engine finishes more than one batch a minute, and a prune that fell behind catches up over a few runs.
 */
async function pruneAll(prune: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < LIMITS.PRUNE_MAX_BATCHES; i++) {
    const n = await prune(LIMITS.PRUNE_BATCH);
    total += n;
    if (n < LIMITS.PRUNE_BATCH) break;
  }
  return total;
}

export interface ReconcileReport {
  /** Executions whose object was asked for its alarm. */
  checked: number;
  rearmed: string[];
  lost: string[];
  /** Finished executions deleted from D1. */
  pruned: number;
  /** Idempotency keys past their 24 hours and settled events past INBOX_RETENTION_MS. */
  pruned_keys: number;
  pruned_events: number;
  /** Webhook deliveries past the replay window (store/webhook-deliveries.ts). */
  pruned_deliveries: number;
  /** Steps (or single executions) that failed; the others ran all the same. */
  errors: ReconcileError[];
}

/**
 * The per-minute reconciliation of executions: re-arms unfinished executions that lost their alarm,
 * marks as failed index rows whose object holds no execution, and prunes finished executions older
 * than the retention setting from D1 (objects prune their own storage). Each step, and each
 * execution's check, is isolated: a failure is reported and the rest still runs.
 */
export async function reconcileExecutions(env: Env, now: number): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    checked: 0,
    rearmed: [],
    lost: [],
    pruned: 0,
    pruned_keys: 0,
    pruned_events: 0,
    pruned_deliveries: 0,
    errors: [],
  };
  const step = (name: string, fn: () => Promise<void>) => runStep(report.errors, name, fn);
  for (const sweep of EXECUTION_SWEEPS) await step(sweep.name, () => sweepExecutions(env, now, sweep, report));
  const days = Number(env.EXECUTION_RETENTION_DAYS) || LIMITS.EXECUTION_RETENTION_DAYS_DEFAULT;
  await step("prune.executions", async () => {
    report.pruned = await pruneAll((n) => pruneExecutions(env.DB, isoNow(now - days * 86_400_000), n));
  });
  await step("prune.idempotency_keys", async () => {
    report.pruned_keys = await pruneAll((n) => pruneIdempotencyKeys(env.DB, now - LIMITS.IDEMPOTENCY_WINDOW_MS, n));
  });
  // Settled events are only needed while a late copy of their message may still be delivered.
  await step("prune.events", async () => {
    report.pruned_events = await pruneAll((n) => pruneInbox(env.DB, isoNow(now - LIMITS.INBOX_RETENTION_MS), n));
  });
  // Replay protection of GitHub-signed deliveries: needed for the replay window only.
  await step("prune.webhook_deliveries", async () => {
    report.pruned_deliveries = await pruneAll((n) => pruneWebhookDeliveries(env.DB, now - LIMITS.WEBHOOK_REPLAY_WINDOW_MS, n));
  });
  return report;
}

/**
 * Checks the next page of a sweep and moves its cursor on. Stale means "summary unchanged for
 * STALE_EXECUTION_MS": a running execution that sits still that long has probably lost its alarm, and a
 * scheduled one legitimately sits still for days, so the cursor (not the age) is what brings every
 * row round in turn: with N stale rows, each is checked at least every ceil(N / batch) + 1 runs, and
 * the object, not the age, decides (a live alarm is left alone). A short page means the end: the next
 * run starts over.
 */
async function sweepExecutions(env: Env, now: number, sweep: Sweep, report: ReconcileReport): Promise<void> {
  const limit = sweep.batch();
  const after = await getReconcileCursor(env.DB, sweep.name);
  const rows = await listStaleExecutionsPage(env.DB, sweep.statuses, isoNow(now - LIMITS.STALE_EXECUTION_MS), after, limit);
  for (let i = 0; i < rows.length; i += LIMITS.RECONCILE_PARALLEL) {
    const chunk = rows.slice(i, i + LIMITS.RECONCILE_PARALLEL);
    await Promise.all(
      chunk.map((row) => runStep(report.errors, sweep.name, () => checkExecution(env, now, row, report), row.id)),
    );
  }
  const last = rows.at(-1);
  const next = rows.length < limit || !last ? null : { updated_at: last.updated_at, id: last.id };
  await setReconcileCursor(env.DB, sweep.name, next, isoNow(now));
}

/** Asks the execution's object to re-arm a lost alarm; an object that holds nothing fails the index row. */
async function checkExecution(env: Env, now: number, row: StaleExecutionRow, report: ReconcileReport): Promise<void> {
  report.checked++;
  const found = await executionClient(env, row.id).ensureAlarm();
  if (found === "rearmed") report.rearmed.push(row.id);
  if (found === "missing" && (await markExecutionLost(env.DB, row, isoNow(now)))) report.lost.push(row.id);
}
