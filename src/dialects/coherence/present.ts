import { runStatus } from "../../engine/execution/views";
import type { AutomationFlow } from "../../schemas/flow";
import type { runDetail } from "../../services/runs";
import { coherenceLens } from "./translate";

/** Coherence's response shapes of a stored flow and of a run (execution log entry). */

/**
 * The webhook URL of an automation with the token a write just made (the only moment it exists in plain text: the
 * engine keeps its hash), when its trigger is a webhook this dialect made.
 */
export function webhookUrl(origin: string, flow: AutomationFlow, token: string | undefined): string | undefined {
  const { doc: model, keep } = coherenceLens.read(flow);
  return model.trigger.type === "webhook" && keep.hasToken && token
    ? `${origin}/v1/webhooks/${flow.id}/${model.trigger.webhook_path}.${token}`
    : undefined;
}

/** An action's config as Coherence shows it: the engine's `secret_configured: false` marker says nothing there. */
function publicConfig(config: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!config) return {};
  if (config.secret_configured !== false) return config;
  const { secret_configured: _s, ...rest } = config;
  return rest;
}

export function present(flow: AutomationFlow, opts: { webhookUrl?: string } = {}) {
  const view = coherenceLens.read(flow);
  const model = view.doc;
  const broken = !flow.enabled && flow.disable_details?.disabled_by === "system";
  return {
    id: flow.id,
    name: model.name,
    description: model.description,
    enabled: model.enabled,
    trigger: model.trigger,
    conditions: model.conditions as Record<string, unknown>[],
    actions: model.actions.map((a) => ({ type: a.type, config: publicConfig(a.config) })),
    ...(model.error_handling ? { error_handling: model.error_handling } : {}),
    ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
    ...(broken
      ? {
          error: {
            code: "automation_disabled" as const,
            message: flow.disable_details?.reason ?? "Automation disabled after repeated failures",
            last_error: flow.disable_details?.last_error ?? null,
          },
        }
      : {}),
    created_at: flow.created_at,
    updated_at: flow.updated_at,
    last_run_at: flow.last_run_at,
    run_count: flow.runs,
    ...coherenceLens.native(view, flow),
  };
}

const LOG_STATUS = { completed: "success", failed: "failed", running: "running", skipped: "skipped" } as const;

/** Coherence's error codes for an action's failure (the document's Common Errors table). */
export function coherenceErrorCode(actionType: string, error: { error_code?: string; error_reason?: string } | null): string {
  const code = error?.error_code ?? "";
  const reason = error?.error_reason ?? "";
  if (code === "TIMEOUT_ERROR" || /timed? ?out/i.test(reason)) return "action_timeout";
  if (code === "ENTITY_NOT_FOUND" || /not found/i.test(reason)) return "record_not_found";
  if (/\b(401|403)\b|forbidden|unauthori[sz]ed|permission/i.test(reason)) return "permission_denied";
  if (actionType === "call_webhook" || actionType === "trigger-webhook") return "webhook_connection_failed";
  if (actionType === "send_email" || actionType === "send-email") return "email_delivery_failed";
  if (code === "TEMPLATE_ERROR" || code === "BAD_CONFIG") return "condition_evaluation_failed";
  return "action_failed";
}

type Detail = NonNullable<Awaited<ReturnType<typeof runDetail>>>;

/** One execution log entry (the document's shape) of a run. */
export function toLog(flowId: string, { run, state }: Detail) {
  const event = state.trigger_event as { type?: unknown; event?: unknown } | undefined;
  const started = run.started_at ? Date.parse(run.started_at) : null;
  const finished = run.finished_at ? Date.parse(run.finished_at) : null;
  return {
    id: run.run_id,
    automation_id: flowId,
    status: LOG_STATUS[runStatus(run.execution_status)],
    trigger_data: {
      record_id: state.entity_id || null,
      event: typeof event?.event === "string" ? event.event : typeof event?.type === "string" ? event.type : null,
    },
    actions_executed: (run.action_results ?? [])
      .filter((r) => r.status !== "pending")
      .map((r) => {
        const error = r.error as { error_code?: string; error_reason?: string } | null;
        return {
          type: r.action_type,
          status: r.status,
          duration_ms: r.duration_ms,
          ...(error ? { error: error.error_reason ?? "failed", error_code: coherenceErrorCode(r.action_type, error) } : {}),
        };
      }),
    started_at: run.started_at ?? null,
    completed_at: run.finished_at,
    duration_ms: started !== null && finished !== null ? finished - started : null,
  };
}
