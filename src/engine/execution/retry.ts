import type { ActionOutcome, FlowActionDef, FlowSnapshot, RetryPolicy } from "./types";

/** Coherence's default ladder: the first try plus retries after 1, 5 and 30 minutes. */
export const DEFAULT_RETRY_POLICY: Required<RetryPolicy> = { max_attempts: 4, backoff_seconds: [60, 300, 1800] };
/** A target's Retry-After is honoured up to this long; beyond it the retry waits this long. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** The action's policy overrides the flow's, which overrides the default, field by field. */
export function effectiveRetryPolicy(flow: FlowSnapshot, action: FlowActionDef): Required<RetryPolicy> {
  return {
    max_attempts: action.retry_policy?.max_attempts ?? flow.retry_policy?.max_attempts ?? DEFAULT_RETRY_POLICY.max_attempts,
    backoff_seconds:
      action.retry_policy?.backoff_seconds ?? flow.retry_policy?.backoff_seconds ?? DEFAULT_RETRY_POLICY.backoff_seconds,
  };
}

/**
 * When to try again after a failed attempt, or null when the failure is final: the error is not
 * retryable, or `attemptsMade` already used up the policy.
 */
export function nextAttemptAt(
  policy: Required<RetryPolicy>,
  attemptsMade: number,
  retry: Extract<ActionOutcome, { kind: "failed" }>["retry"],
  now: number,
): number | null {
  if (retry === "never" || attemptsMade >= policy.max_attempts) return null;
  if (typeof retry === "object") return now + Math.min(Math.max(0, retry.after_ms), MAX_RETRY_AFTER_MS);
  const ladder = policy.backoff_seconds.length > 0 ? policy.backoff_seconds : DEFAULT_RETRY_POLICY.backoff_seconds;
  const seconds = ladder[Math.min(attemptsMade - 1, ladder.length - 1)];
  return now + seconds * 1000;
}
