import type { FlowActionDef } from "../execution/types";
import { effectsFromRequest, type SideEffect, type SideEffectKind } from "./side-effects";

/**
 * The ledger of an execution's side effects, built from its attempt rows (each row carries the effects its
 * attempt caused): one entry per effect, in the order the attempts started. Pure: the object reads the rows.
 */

/** An attempt row as the ledger reads it. */
export interface LedgerRow {
  action_id: string;
  iteration: number | null;
  attempt: number;
  started_at: number;
  ended_at: number;
  /** The attempt's outcome (success, failed, interrupted, paused, waiting, cancelled). */
  outcome: string;
  /** Null for rows written before effects were recorded: they are derived from the request and response. */
  effects: SideEffect[] | null;
  request?: unknown;
  response?: unknown;
}

export interface LedgerEntry extends Omit<SideEffect, "outcome"> {
  /** Position in the ledger (0-based). */
  seq: number;
  action_id: string;
  /** The action's name, or its id when it has none. */
  action_name: string;
  action_type: string;
  iteration: number | null;
  attempt: number;
  started_at: string;
  ended_at: string;
  /** The effect's outcome: ok, failed (refused by the receiver) or unknown (sent, answer not known). */
  outcome: "ok" | "failed" | "unknown";
  /** An earlier effect already carried this idempotency key (a receiver that deduplicates drops this one). */
  repeats_idempotency_key: boolean;
}

/** Effects counted per target. */
export interface TargetTotal {
  kind: SideEffectKind;
  target: string;
  count: number;
  /** Of them, how many repeat an idempotency key sent before. */
  repeated: number;
  /** Model tokens spent at this target (model calls only). */
  tokens?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** An effect's outcome where the effect does not say: from its attempt's. */
function outcomeOf(effect: SideEffect, attemptOutcome: string): LedgerEntry["outcome"] {
  if (effect.outcome) return effect.outcome;
  if (attemptOutcome === "success" || attemptOutcome === "paused" || attemptOutcome === "waiting") return "ok";
  if (attemptOutcome === "failed") return "failed";
  return "unknown";
}

/** Orders rows as they happened: start time, then the flow's order of actions, iteration, attempt. */
export function sortLedgerRows(rows: LedgerRow[], actions: readonly FlowActionDef[]): LedgerRow[] {
  const index = new Map(actions.map((a, i) => [a.id, i]));
  return [...rows].sort(
    (a, b) =>
      a.started_at - b.started_at ||
      (index.get(a.action_id) ?? 0) - (index.get(b.action_id) ?? 0) ||
      (a.iteration ?? -1) - (b.iteration ?? -1) ||
      a.attempt - b.attempt,
  );
}

/** Every effect of the rows, in order; `sentKeys` are idempotency keys sent before the first row (none for a whole ledger). */
export function ledgerEntries(
  rows: LedgerRow[],
  actions: readonly FlowActionDef[],
  sentKeys: Set<string> = new Set(),
): LedgerEntry[] {
  const defs = new Map(actions.map((a) => [a.id, a]));
  const seen = new Set(sentKeys);
  const entries: LedgerEntry[] = [];
  for (const row of sortLedgerRows(rows, actions)) {
    const def = defs.get(row.action_id);
    for (const effect of row.effects ?? effectsFromRequest(row.request, row.response)) {
      const key = effect.idempotency_key;
      entries.push({
        seq: entries.length,
        action_id: row.action_id,
        action_name: def?.name || row.action_id,
        action_type: def?.type ?? "unknown",
        iteration: row.iteration,
        attempt: row.attempt,
        ...effect,
        started_at: iso(row.started_at),
        ended_at: iso(row.ended_at),
        outcome: outcomeOf(effect, row.outcome),
        repeats_idempotency_key: key !== null && seen.has(key),
      });
      if (key !== null) seen.add(key);
    }
  }
  return entries;
}

/** Counts per target (kind and target), in order of first appearance. */
export function totalsByTarget(
  effects: readonly Pick<LedgerEntry, "kind" | "target" | "repeats_idempotency_key" | "tokens">[],
): TargetTotal[] {
  const totals = new Map<string, TargetTotal>();
  for (const e of effects) {
    const id = `${e.kind} ${e.target}`;
    const t = totals.get(id) ?? { kind: e.kind, target: e.target, count: 0, repeated: 0 };
    t.count++;
    if (e.repeats_idempotency_key) t.repeated++;
    const tokens = e.tokens?.total ?? (e.tokens ? (e.tokens.input ?? 0) + (e.tokens.output ?? 0) : undefined);
    if (tokens !== undefined) t.tokens = (t.tokens ?? 0) + tokens;
    totals.set(id, t);
  }
  return [...totals.values()];
}

export interface LedgerTotals {
  effects: number;
  /** Effects that repeat an idempotency key sent before. */
  repeated_idempotency_keys: number;
  /** Model tokens spent in all. */
  model_tokens: number;
  by_target: TargetTotal[];
}

export function ledgerTotals(
  entries: readonly Pick<LedgerEntry, "kind" | "target" | "repeats_idempotency_key" | "tokens">[],
): LedgerTotals {
  const byTarget = totalsByTarget(entries);
  return {
    effects: entries.length,
    repeated_idempotency_keys: entries.filter((e) => e.repeats_idempotency_key).length,
    model_tokens: byTarget.reduce((n, t) => n + (t.tokens ?? 0), 0),
    by_target: byTarget,
  };
}

/** The ledger as the API shows it: one page of entries, and totals over all of them. */
export interface EffectsLedger {
  execution_id: string;
  total: number;
  from: number;
  size: number;
  /** `from` of the next page; null on the last. */
  next_from: number | null;
  effects: LedgerEntry[];
  totals: LedgerTotals;
}

export function buildLedger(
  executionId: string,
  rows: LedgerRow[],
  actions: readonly FlowActionDef[],
  page: { from: number; size: number },
): EffectsLedger {
  const entries = ledgerEntries(rows, actions);
  const end = page.from + page.size;
  return {
    execution_id: executionId,
    total: entries.length,
    from: page.from,
    size: page.size,
    next_from: end < entries.length ? end : null,
    effects: entries.slice(page.from, end),
    totals: ledgerTotals(entries),
  };
}
