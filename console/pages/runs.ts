import { api, query } from "../api";
import { Empty, ErrorNotice, Loading, StatusBadge } from "../components";
import { durationMs, formatDuration, formatTime, statusLabel } from "../format";
import { useResource, useTitle } from "../hooks";
import { html } from "../html";
import { href, navigate, type Route } from "../router";
import { EXECUTION_STATUSES, isFinal, type Execution, type ExecutionList, type FlowList } from "../types";

/** The API lists the newest executions first, at most 100 a page; status and time filters apply to that page. */
export const RUNS_PAGE_SIZE = 100;
/** Poll fast while a listed run is still going, slowly otherwise (to notice new runs). */
export const POLL_ACTIVE_MS = 1500;
export const POLL_IDLE_MS = 5000;

export const TIME_RANGES: { value: string; label: string; ms: number | null }[] = [
  { value: "", label: "Any time", ms: null },
  { value: "15m", label: "Last 15 minutes", ms: 15 * 60_000 },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
];

export const pollInterval = (runs: Execution[]): number =>
  runs.some((r) => !isFinal(r.execution_status)) ? POLL_ACTIVE_MS : POLL_IDLE_MS;

export function listRuns({ flowId, size = RUNS_PAGE_SIZE }: { flowId?: string; size?: number }): Promise<ExecutionList> {
  return api<ExecutionList>("GET", `/v1/automation/executions${query({ flow_id: flowId, size })}`);
}

export interface RunFilters {
  status: string;
  flow: string;
  range: string;
}

export function filterRuns(runs: Execution[], f: RunFilters, now: number): Execution[] {
  const ms = TIME_RANGES.find((r) => r.value === f.range)?.ms ?? null;
  return runs.filter(
    (r) =>
      (!f.status || r.execution_status === f.status) &&
      (ms === null || (r.created_at !== undefined && Date.parse(r.created_at) >= now - ms)),
  );
}

export function RunsTable({ runs, showFlow = true }: { runs: Execution[]; showFlow?: boolean }) {
  if (runs.length === 0) return html`<${Empty}>No runs match.<//>`;
  return html`<div class="table-wrap">
    <table class="stack" data-testid="runs-table">
      <caption class="visually-hidden">
        Runs, newest first
      </caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          ${showFlow ? html`<th scope="col">Flow</th>` : null}
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Record</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (r) =>
            html`<tr key=${r.id} data-testid="run-row" data-run-id=${r.id} data-status=${r.execution_status}>
              <th scope="row" data-label="Run"><a href=${href("runs", r.id)}>${r.id.slice(0, 8)}</a></th>
              <td data-label="Status"><${StatusBadge} status=${r.execution_status} /></td>
              ${showFlow ? html`<td data-label="Flow"><a href=${href("flows", r.flow_id)}>${r.flow_name ?? r.flow_id}</a></td>` : null}
              <td data-label="Started">${formatTime(r.created_at)}</td>
              <td data-label="Duration">
                ${isFinal(r.execution_status) ? formatDuration(durationMs(r.created_at, r.updated_at)) : "running"}
              </td>
              <td data-label="Record">${r.entity_id}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function setFilter(current: RunFilters, name: keyof RunFilters, value: string) {
  const next = { ...current, [name]: value };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(next)) if (v) q.set(k, v);
  const s = q.toString();
  navigate(`/runs${s ? `?${s}` : ""}`);
}

export function RunsPage({ route }: { route: Route }) {
  useTitle("Runs");
  const filters: RunFilters = {
    status: route.params.get("status") ?? "",
    flow: route.params.get("flow") ?? "",
    range: route.params.get("range") ?? "",
  };
  const runs = useResource(
    `runs:${filters.flow}`,
    () => listRuns({ flowId: filters.flow || undefined }),
    (d) => pollInterval(d.results),
  );
  const flows = useResource("runs:flow-names", () => api<FlowList>("GET", "/v1/automation/flows?size=100&include_flows=true"));
  const select = (name: keyof RunFilters) => (e: Event) => setFilter(filters, name, (e.target as HTMLSelectElement).value);

  let body;
  if (runs.error) body = html`<${ErrorNotice} error=${runs.error} retry=${runs.reload} />`;
  else if (!runs.data) body = html`<${Loading} label="Loading runs…" />`;
  else {
    const shown = filterRuns(runs.data.results, filters, Date.now());
    const active = runs.data.results.some((r) => !isFinal(r.execution_status));
    body = html`<p class="hint" aria-live="polite" data-testid="runs-summary">
        ${shown.length} shown of the ${runs.data.results.length} newest (${runs.data.total} in
        all)${active ? "; refreshing while runs are in progress" : ""}.
      </p>
      <${RunsTable} runs=${shown} />`;
  }

  return html`<section aria-labelledby="runs-title">
    <h1 id="runs-title">Runs</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Filter runs">
      <div>
        <label for="filter-status">Status</label>
        <select id="filter-status" value=${filters.status} onChange=${select("status")} data-testid="filter-status">
          <option value="">Any status</option>
          ${EXECUTION_STATUSES.map((s) => html`<option value=${s}>${statusLabel(s)}</option>`)}
        </select>
      </div>
      <div>
        <label for="filter-flow">Flow</label>
        <select id="filter-flow" value=${filters.flow} onChange=${select("flow")} data-testid="filter-flow">
          <option value="">Any flow</option>
          ${(flows.data?.results ?? []).map((f) => html`<option value=${f.id}>${f.flow_name}</option>`)}
          ${
            filters.flow && !flows.data?.results.some((f) => f.id === filters.flow)
              ? html`<option value=${filters.flow}>${filters.flow}</option>`
              : null
          }
        </select>
      </div>
      <div>
        <label for="filter-range">Started</label>
        <select id="filter-range" value=${filters.range} onChange=${select("range")} data-testid="filter-range">
          ${TIME_RANGES.map((r) => html`<option value=${r.value}>${r.label}</option>`)}
        </select>
      </div>
    </form>
    ${body}
  </section>`;
}
