import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { ActionButton, ErrorNotice, JsonBlock, Loading, StatusBadge } from "../components";
import { durationMs, formatDuration, formatTime, statusLabel } from "../format";
import { useResource, useTitle } from "../hooks";
import { html } from "../html";
import { href } from "../router";
import {
  RETRY_STRATEGIES,
  isFinal,
  isRetriable,
  type ActionResult,
  type Execution,
  type ExecutionAction,
  type Run,
} from "../types";
import {
  actionLabel,
  canRerun,
  effectOrigin,
  previewSummary,
  repeatNote,
  type EffectsLedger,
  type RerunPreview,
} from "../reruns";
import { POLL_ACTIVE_MS } from "./runs";

/** One label per strategy of the engine: a new strategy fails the type check until it has one. */
const STRATEGY_LABELS: Record<(typeof RETRY_STRATEGIES)[number], string> = {
  RETRY_AND_RESUME: "Retry, then continue with the rest",
  RETRY_AND_STOP: "Retry this action only, then stop",
  RETRY_ALL_PARENT_CONDITION_ACTIONS: "Retry every action under its condition",
};

interface RunDetail {
  execution: Execution;
  /** The normalized run: request and response of each action's latest attempt (masked by the API). */
  run: Run | null;
  /** The ledger of side effects (its first page). */
  ledger: EffectsLedger | null;
}

async function loadRun(id: string): Promise<RunDetail> {
  const [execution, run, ledger] = await Promise.all([
    api<Execution>("GET", `/v1/automation/executions/${seg(id)}`),
    api<Run>("GET", `/v1/automation/runs/${seg(id)}`).catch(() => null),
    api<EffectsLedger>("GET", `/v1/automation/executions/${seg(id)}/effects`).catch(() => null),
  ]);
  return { execution, run, ledger };
}

/** What an action is waiting for, if anything: a schedule or delay, a retry backoff, or a resume. */
export function waitOf(a: ExecutionAction): string | null {
  if (a.waiting_for_approval) return `Waiting for approval: ${a.waiting_for_approval.tool}`;
  if (a.execution_status === "paused") return "Paused: waiting to be resumed";
  if (a.next_attempt_at && !isFinal(a.execution_status)) return `Retry at ${formatTime(a.next_attempt_at)}`;
  if (a.scheduled_for && (a.execution_status === "scheduled" || a.execution_status === "pending"))
    return `${a.type === "delay" ? "Delay" : "Scheduled"} until ${formatTime(a.scheduled_for)}`;
  if (a.scheduled_for) return `Was scheduled for ${formatTime(a.scheduled_for)}`;
  return null;
}

/** Each effect the rerun would send: where from, where to, and whether it repeats a key already sent. */
function PreviewEffects({ preview }: { preview: RerunPreview }) {
  return html`<div class="table-wrap">
    <table class="stack" data-testid="rerun-effects">
      <caption>
        Effects the rerun would send
      </caption>
      <thead>
        <tr>
          <th scope="col">Action</th>
          <th scope="col">Kind</th>
          <th scope="col">Target</th>
          <th scope="col">Idempotency key</th>
        </tr>
      </thead>
      <tbody>
        ${preview.effects.map(
          (e) =>
            html`<tr data-testid="rerun-effect" data-action-id=${e.action_id}>
              <th scope="row" data-label="Action">${effectOrigin(e)}</th>
              <td data-label="Kind">${e.kind}${e.method ? ` ${e.method}` : ""}</td>
              <td data-label="Target"><code>${e.target}</code></td>
              <td data-label="Idempotency key">
                ${e.idempotency_key ? html`<code>${e.idempotency_key}</code>` : "none"}
                ${
                  e.repeats_idempotency_key
                    ? html` <strong data-testid="repeats-key">repeats key</strong> <span class="hint">${repeatNote(e)}</span>`
                    : null
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/**
 * ": re-execute (3 calls), 3 effect(s)": one string, because HTM drops whitespace that spans a line break
 * between an element and an expression ("Fetch items:reuse-output").
 */
const decisionText = (a: RerunPreview["actions"][number]): string =>
  `: ${a.decision}${a.calls > 1 ? ` (${a.calls} calls)` : ""}${a.effects ? `, ${a.effects} effect(s)` : ""}`;

function PreviewView({ preview }: { preview: RerunPreview }) {
  return html`<div class="preview" data-testid="rerun-preview">
    <p data-testid="rerun-preview-summary">${previewSummary(preview)}</p>
    <ul>
      ${preview.actions.map(
        (a) =>
          html`<li data-testid="rerun-decision" data-action-id=${a.action_id} data-decision=${a.decision}>
            <strong>${a.action_name}</strong>${decisionText(a)}${
              a.reason ? html`<span class="hint">${` (${a.reason})`}</span>` : null
            }
          </li>`,
      )}
    </ul>
    ${preview.effects.length ? html`<${PreviewEffects} preview=${preview} />` : null}
    ${
      preview.totals.by_target.length
        ? html`<p>Would be sent, per target:</p>
            <ul data-testid="rerun-targets">
              ${preview.totals.by_target.map(
                (t) =>
                  html`<li>
                    ${`${t.kind} `}<code>${t.target}</code>${`: ${t.count}`}${
                      t.repeated ? ` (${t.repeated} repeating a key already sent)` : ""
                    }
                  </li>`,
              )}
            </ul>`
        : html`<p>Nothing would be sent.</p>`
    }
  </div>`;
}

function Retrigger({ execution, action, reload }: { execution: Execution; action: ExecutionAction; reload: () => void }) {
  const [strategy, setStrategy] = useState<string>("RETRY_AND_RESUME");
  const [reuse, setReuse] = useState<string[]>([]);
  const [preview, setPreview] = useState<RerunPreview | null>(null);
  const id = `strategy-${action.id}`;
  const reusable = execution.actions.filter((a) => a.execution_status === "success");
  const body = () => ({
    retry_strategy: strategy,
    ...(strategy === "RETRY_ALL_PARENT_CONDITION_ACTIONS" && action.condition_id ? { condition_id: action.condition_id } : {}),
    ...(reuse.length ? { reuse_outputs: reuse } : {}),
  });
  const toggle = (actionId: string, on: boolean) => {
    setReuse((r) => (on ? [...r, actionId] : r.filter((x) => x !== actionId)));
    setPreview(null);
  };
  const path = `/v1/automation/executions/${seg(execution.id)}/${seg(action.id)}/retrigger`;
  // Open where a retry is what the action needs; folded on the steps that ended well (a restart from there).
  return html`<details class="retrigger" data-testid="retrigger" open=${isRetriable(action.execution_status)}>
    <summary>${isRetriable(action.execution_status) ? "Retry" : "Rerun from this action"}</summary>
    <label for=${id}>Retrigger strategy</label>
    <select
      id=${id}
      value=${strategy}
      onChange=${(e: Event) => {
        setStrategy((e.target as HTMLSelectElement).value);
        setPreview(null);
      }}
      data-testid="retrigger-strategy"
    >
      ${RETRY_STRATEGIES.map(
        (s) =>
          html`<option value=${s} disabled=${s === "RETRY_ALL_PARENT_CONDITION_ACTIONS" && !action.condition_id}>
            ${STRATEGY_LABELS[s]} (${s})
          </option>`,
      )}
    </select>
    ${
      reusable.length
        ? html`<fieldset>
            <legend>Reuse the recorded outputs of (not sent again)</legend>
            ${reusable.map(
              (a) =>
                html`<label
                  ><input
                    type="checkbox"
                    checked=${reuse.includes(a.id)}
                    data-testid="reuse-output"
                    onChange=${(e: Event) => toggle(a.id, (e.target as HTMLInputElement).checked)}
                  />
                  ${actionLabel(a)}</label
                >`,
            )}
          </fieldset>`
        : null
    }
    <div class="buttons">
      <${ActionButton}
        label="Preview (sends nothing)"
        testid="preview-button"
        run=${() => api<RerunPreview>("POST", `${path}:preview`, body())}
        done=${(p: unknown) => setPreview(p as RerunPreview)}
      />
      <${ActionButton} label="Retrigger" testid="retrigger-button" run=${() => api("POST", path, body())} done=${reload} />
    </div>
    ${preview ? html`<${PreviewView} preview=${preview} />` : null}
  </details>`;
}

/** The ledger: every side effect of the run, in order, with where it went and whether it repeated a key. */
function LedgerView({ ledger }: { ledger: EffectsLedger | null }) {
  if (!ledger) return html`<p class="state empty">The side effects of this run could not be read.</p>`;
  if (ledger.total === 0)
    return html`<p class="state empty" data-testid="ledger-empty">This run has sent, written or started nothing.</p>`;
  return html`<div class="table-wrap">
    <table class="stack" data-testid="ledger">
      <caption class="visually-hidden">
        Side effects of the run${ledger.next_from !== null ? ` (first ${ledger.effects.length} of ${ledger.total})` : ""}
      </caption>
      <thead>
        <tr>
          <th scope="col">Action</th>
          <th scope="col">Kind</th>
          <th scope="col">Target</th>
          <th scope="col">Outcome</th>
          <th scope="col">When</th>
          <th scope="col">Idempotency key</th>
        </tr>
      </thead>
      <tbody>
        ${ledger.effects.map(
          (e) =>
            html`<tr data-testid="ledger-entry" data-action-id=${e.action_id}>
              <th scope="row" data-label="Action">${effectOrigin(e)}</th>
              <td data-label="Kind">${e.kind}${e.method ? ` ${e.method}` : ""}${e.operation ? ` (${e.operation})` : ""}</td>
              <td data-label="Target"><code>${e.target}</code>${e.ref ? html` → <code>${e.ref}</code>` : null}</td>
              <td data-label="Outcome">
                ${e.outcome}${e.status ? ` ${e.status}` : ""}${e.tokens ? `, ${e.tokens.total ?? (e.tokens.input ?? 0) + (e.tokens.output ?? 0)} tokens` : ""}
              </td>
              <td data-label="When">${formatTime(e.started_at)}</td>
              <td data-label="Idempotency key">
                ${e.idempotency_key ? html`<code>${e.idempotency_key}</code>` : "none"}
                ${
                  e.repeats_idempotency_key
                    ? html` <strong data-testid="repeats-key">repeats key</strong> <span class="hint">${repeatNote(e)}</span>`
                    : null
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** An ai_agent's write tool call waiting for a person: the tool, its arguments, Approve or Reject (with a comment). */
function Approval({ execution, action, reload }: { execution: Execution; action: ExecutionAction; reload: () => void }) {
  const pending = action.waiting_for_approval!;
  const [comment, setComment] = useState("");
  const id = `comment-${action.id}`;
  const decide = (decision: "approve" | "reject") => () =>
    api("POST", `/v1/automation/executions/${seg(execution.id)}/${seg(action.id)}/approval`, {
      decision,
      ...(comment.trim() ? { comment: comment.trim() } : {}),
    });
  return html`<div class="approval" data-testid="approval" role="group" aria-label=${`Approval of ${pending.tool}`}>
    <p>
      <strong>The agent asks to run <code data-testid="approval-tool">${pending.tool}</code></strong> with:
    </p>
    <${JsonBlock} label="Arguments" value=${pending.arguments} open=${true} testid="approval-arguments" />
    <label for=${id}>Comment (optional; a rejection tells the model)</label>
    <input id=${id} value=${comment} onInput=${(e: Event) => setComment((e.target as HTMLInputElement).value)} />
    <div class="buttons">
      <${ActionButton} label="Approve" testid="approve-call" run=${decide("approve")} done=${reload} />
      <${ActionButton} label="Reject" variant="danger" testid="reject-call" run=${decide("reject")} done=${reload} />
    </div>
  </div>`;
}

function ActionEntry({
  execution,
  action,
  result,
  reload,
}: {
  execution: Execution;
  action: ExecutionAction;
  result?: ActionResult;
  reload: () => void;
}) {
  const wait = waitOf(action);
  const attempts = action.attempts ?? [];
  const ended = isFinal(action.execution_status) ? action.updated_at : undefined;
  return html`<li class=${`event status-${action.execution_status}`} data-testid="timeline-action" data-action-id=${action.id}>
    <h3>${actionLabel(action)} <${StatusBadge} status=${action.execution_status} /></h3>
    <dl class="facts small">
      <div>
        <dt>Type</dt>
        <dd>${action.type}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>${formatTime(action.started_at)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>${formatDuration(durationMs(action.started_at, ended))}</dd>
      </div>
      <div>
        <dt>Attempts</dt>
        <dd data-testid="attempts-total">${action.attempts_total ?? attempts.length}</dd>
      </div>
      ${
        action.retry_strategy
          ? html`<div>
              <dt>Retriggered with</dt>
              <dd>${action.retry_strategy}</dd>
            </div>`
          : null
      }
    </dl>
    ${wait ? html`<p class="wait" data-testid="action-wait">${wait}</p>` : null}
    ${action.waiting_for_approval ? html`<${Approval} execution=${execution} action=${action} reload=${reload} />` : null}
    ${action.reason ? html`<p class="hint">${action.reason}</p>` : null}
    ${
      action.error_output
        ? html`<p class="state error" data-testid="action-error">
            ${action.error_output.error_code}: ${action.error_output.error_reason}
          </p>`
        : null
    }
    ${
      attempts.length
        ? html`<ol class="attempts" aria-label=${`Attempts of ${actionLabel(action)}`}>
            ${attempts.map(
              (t) =>
                html`<li data-testid="attempt">
                  Attempt ${t.attempt}${t.iteration !== undefined ? ` (item ${t.iteration + 1})` : ""}: ${statusLabel(t.outcome)},
                  started ${formatTime(t.started_at)}, took ${formatDuration(durationMs(t.started_at, t.ended_at))}
                  ${t.error ? html`<${JsonBlock} label="Error" value=${t.error} />` : null}
                </li>`,
            )}
          </ol>`
        : null
    }
    ${
      action.iterations?.length
        ? html`<details class="iterations">
            <summary>
              ${`Loop: ${action.loop_state?.current_index ?? action.iterations.length} of ${
                action.iterations_total ?? action.loop_state?.total
              } items`}
            </summary>
            <ol>
              ${action.iterations.map(
                (it) =>
                  html`<li>
                    Item ${it.index + 1}: <${StatusBadge} status=${it.execution_status} />
                    ${formatDuration(durationMs(it.started_at, it.ended_at))}
                    ${it.error_output ? html`<span class="bad">${it.error_output.error_reason}</span>` : null}
                  </li>`,
              )}
            </ol>
          </details>`
        : null
    }
    ${
      result?.request !== undefined && result?.request !== null
        ? html`<${JsonBlock} label="Request (latest attempt)" value=${result.request} testid="action-request" />`
        : null
    }
    ${
      result?.response !== undefined && result?.response !== null
        ? html`<${JsonBlock} label="Response (latest attempt)" value=${result.response} testid="action-response" />`
        : null
    }
    ${action.outputs && Object.keys(action.outputs).length ? html`<${JsonBlock} label="Outputs" value=${action.outputs} />` : null}
    ${
      action.schedule_id && !isFinal(execution.execution_status) && action.execution_status === "scheduled"
        ? html`<${ActionButton}
            label="Cancel this schedule"
            run=${() => api("DELETE", `/v1/automation/executions/${seg(execution.id)}/schedules/${seg(action.schedule_id!)}`)}
            done=${reload}
          />`
        : null
    }
    ${
      canRerun(action.execution_status, execution.execution_status)
        ? html`<${Retrigger} execution=${execution} action=${action} reload=${reload} />`
        : null
    }
  </li>`;
}

export function RunPage({ runId }: { runId: string }) {
  useTitle(`Run ${runId.slice(0, 8)}`);
  const detail = useResource(
    `run:${runId}`,
    () => loadRun(runId),
    (d) => (isFinal(d.execution.execution_status) ? null : POLL_ACTIVE_MS),
  );

  if (detail.error)
    return html`<section>
      <h1>Run</h1>
      <${ErrorNotice} error=${detail.error} retry=${detail.reload} />
    </section>`;
  if (!detail.data)
    return html`<section>
      <h1>Run</h1>
      <${Loading} label="Loading run…" />
    </section>`;
  const { execution: e, run, ledger } = detail.data;
  const results = new Map((run?.action_results ?? []).map((r) => [r.action_id, r]));
  const final = isFinal(e.execution_status);

  return html`<article aria-labelledby="run-title">
    <p class="crumbs"><a href="#/runs">Runs</a> ›</p>
    <h1 id="run-title">Run of ${e.flow_name ?? e.flow_id}</h1>
    <dl class="facts">
      <div>
        <dt>Status</dt>
        <dd data-testid="run-status" data-status=${e.execution_status}><${StatusBadge} status=${e.execution_status} /></dd>
      </div>
      <div>
        <dt>Flow</dt>
        <dd><a href=${href("flows", e.flow_id)}>${e.flow_name ?? e.flow_id}</a></dd>
      </div>
      <div>
        <dt>Record</dt>
        <dd>${e.entity_id}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>${formatTime(e.created_at)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>${formatTime(e.finished_at ?? run?.finished_at ?? undefined)}</dd>
      </div>
      <div>
        <dt>Run id</dt>
        <dd><code>${e.id}</code></dd>
      </div>
      ${
        e.llm_usage
          ? html`<div>
              <dt>Model tokens</dt>
              <dd data-testid="llm-usage">
                ${e.llm_usage.total_tokens} (${e.llm_usage.input_tokens} in, ${e.llm_usage.output_tokens} out)
              </dd>
            </div>`
          : null
      }
    </dl>
    ${e.error_output ? html`<p class="state error">${e.error_output.error_code}: ${e.error_output.error_reason}</p>` : null}
    ${e.cancel_reason ? html`<p class="hint">${e.cancel_reason}</p>` : null}
    <div class="buttons">
      ${
        !final
          ? html`<${ActionButton}
              label="Cancel run"
              variant="danger"
              testid="cancel-run"
              confirm="Cancel this run? Its pending actions will not run."
              run=${() => api("DELETE", `/v1/automation/executions/${seg(e.id)}`)}
              done=${detail.reload}
            />`
          : null
      }
      ${
        e.execution_status === "paused" && e.resume_token
          ? html`<${ActionButton}
              label="Resume"
              testid="resume-run"
              run=${() => api("POST", "/v1/automation/public/executions:resume", { resume_token: e.resume_token })}
              done=${detail.reload}
            />`
          : null
      }
      ${!final ? html`<span class="hint" aria-live="polite">Refreshing while the run is in progress.</span>` : null}
    </div>
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      ${
        e.actions.length
          ? html`<ol class="timeline" data-testid="timeline">
              ${e.actions.map((a) => html`<${ActionEntry} key=${a.id} execution=${e} action=${a} result=${results.get(a.id)} reload=${detail.reload} />`)}
            </ol>`
          : html`<p class="state empty">This run has no actions.</p>`
      }
    </section>
    <section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Side effects</h2>
      <${LedgerView} ledger=${ledger} />
    </section>
    <${JsonBlock} label="Trigger event" value=${e.trigger_event} />
  </article>`;
}
