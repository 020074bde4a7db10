/**
 * What the console shows of reruns (docs/reruns.md): the ledger of an execution's side effects, the preview of
 * a rerun, a flow's plan. Pure helpers, tested in test/console/reruns.test.ts; the pages render them.
 */
import type { EffectsLedger, LedgerEntry } from "../src/engine/reruns/ledger";
import type { RerunPreview } from "../src/engine/reruns/preview";
import type { FlowPlan } from "../src/engine/plan/plan";
import { isFinal, isRetriable } from "./types";

export type { EffectsLedger, FlowPlan, LedgerEntry, RerunPreview };

/** An action as people know it: its name, else its id (three `call_webhook` steps do not look alike). */
export const actionLabel = (a: { name?: string; id: string }): string => a.name || a.id;

/** Whether the engine reruns from this action: a failed or stuck one any time, any other once the run ended; never in a cancelled run. */
export const canRerun = (actionStatus: string, executionStatus: string): boolean =>
  executionStatus !== "cancelled" && (isRetriable(actionStatus) || isFinal(executionStatus));

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${+(s / 3600).toFixed(1)} h`;
  return `${+(s / 86_400).toFixed(1)} days`;
}

/** Where in a run an effect came from: the action, its loop item and attempt. */
export function effectOrigin(e: Pick<LedgerEntry, "action_name" | "iteration" | "attempt">): string {
  return `${e.action_name}${e.iteration !== null ? `, item ${e.iteration + 1}` : ""}, attempt ${e.attempt}`;
}

/** What a repeated idempotency key means for the effect. */
export function repeatNote(e: Pick<LedgerEntry, "repeats_idempotency_key" | "dedupe">): string {
  if (!e.repeats_idempotency_key) return "";
  if (e.dedupe === "receiver") return "repeats a key already sent: a receiver that deduplicates drops it";
  if (e.dedupe === "engine") return "repeats a key already used: the engine writes nothing new";
  return "repeats a key already used, but nothing drops it: it happens again";
}

/** One sentence for a rerun's preview. */
export function previewSummary(p: RerunPreview): string {
  const count = (d: string) => p.actions.filter((a) => a.decision === d).length;
  const repeated = p.totals.repeated_idempotency_keys;
  const effects = p.totals.effects;
  return (
    `${count("re-execute")} action(s) re-executed, ${count("reuse-output")} reusing recorded outputs, ${count("skip")} skipped; ` +
    `${effects} effect(s) would be sent${repeated ? `, ${repeated} repeating an idempotency key already sent` : ""}; ` +
    `the run would end ${p.status_after}${p.complete ? "" : " (the preview stopped at its step limit)"}.`
  );
}

/** The plan's figures, labelled, in the order the flow page lists them. */
export function planFacts(p: FlowPlan): { label: string; value: string; testid: string }[] {
  return [
    { label: "Actions (worst case)", value: String(p.max_actions), testid: "plan-actions" },
    { label: "Attempts with retries", value: String(p.max_attempts), testid: "plan-attempts" },
    { label: "Outbound requests", value: String(p.max_outbound_requests), testid: "plan-requests" },
    {
      label: "Requests per invocation",
      value: `${p.max_outbound_requests_per_invocation} (Free ${p.subrequest_limits.free}, Paid ${p.subrequest_limits.paid})`,
      testid: "plan-requests-invocation",
    },
    { label: "Largest payload", value: formatBytes(p.max_payload_bytes), testid: "plan-payload" },
    { label: "Total delay", value: formatSeconds(p.total_delay_seconds), testid: "plan-delay" },
    { label: "Model tokens", value: String(p.max_model_tokens), testid: "plan-tokens" },
    { label: "Estimated CPU", value: `${p.est_cpu_ms} ms`, testid: "plan-cpu" },
  ];
}
