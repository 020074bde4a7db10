import type { Env } from "../env";
import { listProviders } from "../providers/registry";
import { connectionSummaries } from "../store/connections";
import { performCall, prepareCall } from "./integrations";

/**
 * Flow `error_handling.notify_email` (Coherence's error notifications): the failure report as an e-mail, sent
 * through the org's e-mail connection (a provider of category `email`, as the send_email action uses). Best
 * effort, one attempt; returns why nothing was sent, for the caller's log.
 */
export async function sendFailureEmail(
  env: Env,
  orgId: string,
  to: string,
  report: { flow_name: string; flow_id: string; execution_id: string; error: unknown },
): Promise<string | null> {
  const platforms = new Set(
    listProviders()
      .filter((p) => p.category === "email")
      .map((p) => p.platform),
  );
  const connection = (await connectionSummaries(env.DB, orgId)).find((c) => platforms.has(c.platform));
  if (!connection) return "no e-mail connection";
  const error = typeof report.error === "string" ? report.error : JSON.stringify(report.error ?? null);
  const call = await prepareCall(env, {
    orgId,
    platform: connection.platform,
    action: "send_email",
    connectionId: connection.id,
    params: {
      to,
      subject: `Automation failed: ${report.flow_name}`.slice(0, 200),
      text:
        `The automation "${report.flow_name}" (${report.flow_id}) failed.\n\n` +
        `Execution: ${report.execution_id}\nError: ${error.slice(0, 2000)}\n`,
    },
  });
  const outcome = await performCall(env, call, { idempotencyKey: `${report.execution_id}:failure-email` });
  return outcome.success ? null : (outcome.error ?? "not sent");
}
