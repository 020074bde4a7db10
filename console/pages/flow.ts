import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { ActionButton, ErrorNotice, JsonBlock, Loading, StatusBadge, errorText } from "../components";
import { formatRate, formatTime } from "../format";
import { FlowGraphView } from "../graph";
import { useResource, useTitle } from "../hooks";
import { html } from "../html";
import { href } from "../router";
import type { DryRun, Flow, Run } from "../types";
import { QueuePanel, hasFlowControl } from "./flow-queue";
import { planFacts, type FlowPlan } from "../reruns";
import { RunsTable, listRuns, pollInterval } from "./runs";

/** Parses the test-data editor: empty is no data, anything else must be a JSON object. */
export function parseTestData(
  text: string,
): { ok: true; value: Record<string, unknown> | undefined } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value))
      return { ok: false, error: "Test data must be a JSON object" };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (err) {
    return { ok: false, error: `Test data is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function RunPanel({ flow }: { flow: Flow }) {
  const [text, setText] = useState("{\n  \n}");
  const [busy, setBusy] = useState<"run" | "dry" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [dry, setDry] = useState<DryRun | null>(null);

  const go = async (kind: "run" | "dry") => {
    const parsed = parseTestData(text);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setBusy(kind);
    setError(null);
    try {
      const body = parsed.value ? { test_data: parsed.value } : {};
      if (kind === "run") {
        setRun(await api<Run>("POST", `/v1/automation/flows/${seg(flow.id)}/trigger`, body));
        setDry(null);
      } else {
        setDry(await api<DryRun>("POST", `/v1/automation/flows/${seg(flow.id)}/test`, body));
        setRun(null);
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return html`<section class="card" aria-labelledby="run-title">
    <h2 id="run-title">Run with test data</h2>
    <label for="test-data">Test data (JSON object, used as the record)</label>
    <textarea
      id="test-data"
      rows="6"
      spellcheck="false"
      data-testid="test-data"
      value=${text}
      onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
    ></textarea>
    <div class="buttons">
      <button type="button" onClick=${() => go("dry")} disabled=${busy !== null} data-testid="dry-run">
        ${busy === "dry" ? "Previewing…" : "Dry run (changes nothing)"}
      </button>
      <button
        type="button"
        class="primary"
        onClick=${() => go("run")}
        disabled=${busy !== null || !flow.enabled}
        data-testid="run-now"
      >
        ${busy === "run" ? "Running…" : "Run now"}
      </button>
    </div>
    ${!flow.enabled ? html`<p class="hint">Enable the flow to run it.</p>` : null}
    <div aria-live="polite">
      ${error ? html`<p class="state error" role="alert">${error}</p>` : null}
      ${
        run
          ? html`<p data-testid="run-result">
              Started run <a href=${href("runs", run.run_id)}>${run.run_id}</a>: <${StatusBadge} status=${run.execution_status} />
            </p>`
          : null
      }
      ${dry ? html`<${DryRunResult} dry=${dry} />` : null}
    </div>
  </section>`;
}

function DryRunResult({ dry }: { dry: DryRun }) {
  return html`<div data-testid="dry-run-result">
    <h3>Dry run</h3>
    <p>
      ${dry.would_execute ? "The flow would run" : "The flow would not run"}; conditions${" "}
      ${dry.conditions_passed ? "pass" : "fail"}; it would end <${StatusBadge} status=${dry.status} />
      ${dry.finishes_at ? ` at ${formatTime(dry.finishes_at)}` : ""}${dry.complete ? "" : " (stopped at the step limit)"}.
    </p>
    <ol class="preview">
      ${dry.actions_preview.map(
        (a, i) =>
          html`<li>
            <strong>${String(a.name ?? a.action_id ?? a.type ?? `Action ${i + 1}`)}</strong>:
            ${a.would_run ? "would run" : `skipped${a.skip_reason ? ` (${String(a.skip_reason)})` : ""}`}
            ${a.runs_at ? ` at ${formatTime(String(a.runs_at))}` : ""}
            ${a.error ? html`<span class="bad">${String(JSON.stringify(a.error))}</span>` : null}
            <${JsonBlock} label="Rendered config" value=${a.rendered_config} />
          </li>`,
      )}
    </ol>
  </div>`;
}

/** The limits planner's figures for the flow, with what may exceed a limit and what cannot fit. */
function PlanView({ plan }: { plan: FlowPlan }) {
  const issues = (list: FlowPlan["warnings"], kind: "warning" | "error") =>
    list.map(
      (w) =>
        html`<li data-testid=${`plan-${kind}`} class=${kind === "error" ? "bad" : ""}>
          ${w.message}${w.path ? html` <code>${w.path}</code>` : null}
        </li>`,
    );
  return html`<section aria-labelledby="plan-title" data-testid="flow-plan">
    <h2 id="plan-title">Plan: worst case of one run</h2>
    <dl class="facts">
      ${planFacts(plan).map(
        (f) =>
          html`<div>
            <dt>${f.label}</dt>
            <dd data-testid=${f.testid}>${f.value}</dd>
          </div>`,
      )}
    </dl>
    ${
      plan.errors.length
        ? html`<p class="state error">This flow can never run within the limits:</p>
            <ul>
              ${issues(plan.errors, "error")}
            </ul>`
        : null
    }
    ${
      plan.warnings.length
        ? html`<p>It may exceed a limit:</p>
            <ul>
              ${issues(plan.warnings, "warning")}
            </ul>`
        : null
    }
    ${!plan.errors.length && !plan.warnings.length ? html`<p class="hint">Within every limit, loops at their largest.</p>` : null}
  </section>`;
}

export function FlowPage({ flowId }: { flowId: string }) {
  const flow = useResource(`flow:${flowId}`, () => api<Flow>("GET", `/v1/automation/flows/${seg(flowId)}`));
  useTitle(flow.data ? `Flow ${flow.data.flow_name}` : "Flow");
  const runs = useResource(
    `flow-runs:${flowId}`,
    () => listRuns({ flowId, size: 10 }),
    (d) => pollInterval(d.results),
  );

  if (flow.error)
    return html`<section>
      <h1>Flow</h1>
      <${ErrorNotice} error=${flow.error} retry=${flow.reload} />
    </section>`;
  if (!flow.data)
    return html`<section>
      <h1>Flow</h1>
      <${Loading} label="Loading flow…" />
    </section>`;
  const f = flow.data;
  const toggle = f.enabled ? "disable" : "enable";

  return html`<article aria-labelledby="flow-title">
    <p class="crumbs"><a href="#/flows">Flows</a> ›</p>
    <h1 id="flow-title">${f.flow_name}</h1>
    ${f.description ? html`<p>${f.description}</p>` : null}
    <dl class="facts">
      <div>
        <dt>State</dt>
        <dd data-testid="flow-state">${f.enabled ? "enabled" : "disabled"}</dd>
      </div>
      <div>
        <dt>Runs</dt>
        <dd>${f.runs}</dd>
      </div>
      <div>
        <dt>Last run</dt>
        <dd>${formatTime(f.last_run_at)}</dd>
      </div>
      <div>
        <dt>Success rate</dt>
        <dd>${formatRate(f.success_rate)}</dd>
      </div>
      <div>
        <dt>Failures in a row</dt>
        <dd>${f.consecutive_failures}</dd>
      </div>
    </dl>
    ${
      f.disable_details?.reason
        ? html`<p class="state error">Disabled by the ${f.disable_details.disabled_by}: ${f.disable_details.reason}</p>`
        : null
    }
    <div class="buttons">
      <${ActionButton}
        label=${f.enabled ? "Disable flow" : "Enable flow"}
        testid="toggle-flow"
        run=${() => api("POST", `/v1/automation/flows/${seg(f.id)}/${toggle}`)}
        done=${flow.reload}
      />
      <a class="button" href=${`#/runs?flow=${encodeURIComponent(f.id)}`}>All runs of this flow</a>
    </div>
    <section aria-labelledby="graph-title">
      <h2 id="graph-title">Structure</h2>
      <${FlowGraphView} flow=${f} />
    </section>
    ${hasFlowControl(f) ? html`<${QueuePanel} flow=${f} />` : null} ${f.plan ? html`<${PlanView} plan=${f.plan} />` : null}
    <${RunPanel} flow=${f} />
    <section aria-labelledby="recent-title">
      <h2 id="recent-title">Recent runs</h2>
      ${
        runs.error
          ? html`<${ErrorNotice} error=${runs.error} retry=${runs.reload} />`
          : runs.data
            ? html`<${RunsTable} runs=${runs.data.results} showFlow=${false} />`
            : html`<${Loading} label="Loading runs…" />`
      }
    </section>
    <${JsonBlock} label="Flow document (JSON)" value=${f} />
  </article>`;
}
