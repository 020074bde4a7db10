import type { ExecutionState } from "../engine/execution/types";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { safeFetch } from "../lib/outbound";
import { outboundPolicy } from "../lib/ssrf";
import { sendFailureEmail } from "../services/failure-email";

/**
 * Flow `error_handling.notify_on_failure`: POSTs a failure report to `notify_url` and/or e-mails it to
 * `notify_email` (services/failure-email.ts). Best effort, one
 * attempt, under the outbound policy; the receiver can drop duplicates by the idempotency key.
 */
export async function sendFailureNotification(env: Env, state: ExecutionState): Promise<void> {
  const eh = state.flow.error_handling;
  if (!eh?.notify_on_failure || (!eh.notify_url && !eh.notify_email)) return;
  const failed = state.actions.find((a) => a.execution_status === "failed");
  const report = {
    type: "execution.failed",
    org_id: state.org_id,
    flow_id: state.flow.id,
    flow_name: state.flow.flow_name,
    execution_id: state.id,
    entity_id: state.entity_id,
    failed_action_id: failed?.id ?? null,
    error: state.last_error ?? null,
    finished_at: state.finished_at ? new Date(state.finished_at).toISOString() : null,
  };
  if (eh.notify_email) {
    const why = await sendFailureEmail(env, state.org_id, eh.notify_email, report).catch((err: Error) => err.message);
    if (why) console.warn("failure e-mail not sent", state.id, why);
  }
  if (!eh.notify_url) return;
  try {
    const res = await safeFetch(
      eh.notify_url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": `${state.id}:failure-notification` },
        body: JSON.stringify(report),
      },
      { ...outboundPolicy(env), timeoutMs: LIMITS.FAILURE_NOTIFICATION_TIMEOUT_MS },
    );
    await res.body?.cancel();
  } catch (err) {
    console.warn("failure notification not delivered", state.id, (err as Error).message);
  }
}
