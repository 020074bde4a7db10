import { api, query } from "../api";
import { Empty, ErrorNotice, Loading } from "../components";
import { formatRate, formatTime } from "../format";
import { useResource, useTitle } from "../hooks";
import { html } from "../html";
import { href, type Route } from "../router";
import type { Flow, FlowList } from "../types";

export const FLOW_PAGE_SIZE = 50;

const triggerTypes = (flow: Flow): string => [...new Set(flow.triggers.map((t) => t.type))].join(", ") || "—";

function FlowRow({ flow }: { flow: Flow }) {
  return html`<tr data-testid="flow-row" data-flow-id=${flow.id}>
    <th scope="row" data-label="Flow"><a href=${href("flows", flow.id)}>${flow.flow_name}</a></th>
    <td data-label="State">
      <span class=${`badge ${flow.enabled ? "status-success" : "status-cancelled"}`}
        >${flow.enabled ? "enabled" : "disabled"}</span
      >
    </td>
    <td data-label="Triggers">${triggerTypes(flow)}</td>
    <td data-label="Last run">${formatTime(flow.last_run_at)}</td>
    <td data-label="Success rate">${formatRate(flow.success_rate)}</td>
    <td data-label="Runs">${flow.runs}</td>
  </tr>`;
}

export function FlowsPage({ route }: { route: Route }) {
  useTitle("Flows");
  const from = Math.max(0, Number(route.params.get("from")) || 0);
  const flows = useResource(`flows:${from}`, () =>
    api<FlowList>("GET", `/v1/automation/flows${query({ size: FLOW_PAGE_SIZE, from, include_flows: "true" })}`),
  );

  let body;
  if (flows.error) body = html`<${ErrorNotice} error=${flows.error} retry=${flows.reload} />`;
  else if (!flows.data) body = html`<${Loading} label="Loading flows…" />`;
  else if (flows.data.results.length === 0)
    body = html`<${Empty}
      >No flows yet. Create one with <code>POST /v1/automation/flows</code> (see <a href="/docs">the API docs</a>).<//
    >`;
  else
    body = html`<div class="table-wrap">
        <table class="stack" data-testid="flows-table">
          <caption class="visually-hidden">
            Flows of this organization
          </caption>
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col">State</th>
              <th scope="col">Triggers</th>
              <th scope="col">Last run</th>
              <th scope="col">Success rate</th>
              <th scope="col">Runs</th>
            </tr>
          </thead>
          <tbody>
            ${flows.data.results.map((f) => html`<${FlowRow} key=${f.id} flow=${f} />`)}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Flow pages">
        ${from > 0 ? html`<a href=${`#/flows?from=${Math.max(0, from - FLOW_PAGE_SIZE)}`}>Previous</a>` : null}
        <span>${from + 1}–${from + flows.data.results.length} of ${flows.data.total}</span>
        ${from + FLOW_PAGE_SIZE < flows.data.total ? html`<a href=${`#/flows?from=${from + FLOW_PAGE_SIZE}`}>Next</a>` : null}
      </nav>`;

  return html`<section aria-labelledby="flows-title">
    <h1 id="flows-title">Flows</h1>
    ${body}
  </section>`;
}
