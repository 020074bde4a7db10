import { api, seg } from "../api";
import { ErrorNotice, Loading } from "../components";
import { formatDuration, formatTime } from "../format";
import { useResource } from "../hooks";
import { html } from "../html";
import type { Flow, FlowQueue } from "../types";

/** Whether the flow has flow control worth a queue panel (docs/flow-control.md). */
export const hasFlowControl = (f: Flow): boolean =>
  !!f.concurrency_limit || (!!f.flow_control && Object.keys(f.flow_control).length > 0);

const keyLabel = (key: string) => (key === "" ? html`<em>whole flow</em>` : key);
const boundLabel: Record<string, string> = {
  concurrency: "Concurrency",
  concurrency_2: "Concurrency (2nd)",
  singleton: "Singleton",
};

/**
 * The flow's queue (GET /flows/{flow_id}/queue): running and waiting starts per key, the oldest waiting
 * start's age, the next throttle slot, and the debounce or batch groups collecting events. Refreshes itself
 * while anything waits.
 */
export function QueuePanel({ flow }: { flow: Flow }) {
  const q = useResource(
    `flow-queue:${flow.id}`,
    () => api<FlowQueue>("GET", `/v1/automation/flows/${seg(flow.id)}/queue`),
    (d) => (d.waiting > 0 || d.collecting.length > 0 ? 5_000 : null),
  );
  const body = q.error
    ? html`<${ErrorNotice} error=${q.error} retry=${q.reload} />`
    : !q.data
      ? html`<${Loading} label="Loading the queue…" />`
      : html`<${QueueView} queue=${q.data} />`;
  return html`<section class="card" aria-labelledby="queue-title" data-testid="flow-queue">
    <h2 id="queue-title">Queue</h2>
    ${body}
  </section>`;
}

function QueueView({ queue }: { queue: FlowQueue }) {
  return html`<dl class="facts small">
      <div>
        <dt>Running</dt>
        <dd data-testid="queue-running">${queue.running}</dd>
      </div>
      <div>
        <dt>Waiting</dt>
        <dd data-testid="queue-waiting">${queue.waiting}${queue.throttled ? ` (${queue.throttled} throttled)` : ""}</dd>
      </div>
      <div>
        <dt>Oldest waiting</dt>
        <dd>${queue.oldest_waiting_age_ms === null ? "—" : formatDuration(queue.oldest_waiting_age_ms)}</dd>
      </div>
      <div>
        <dt>Next throttle slot</dt>
        <dd>${formatTime(queue.next_throttle_slot_at)}</dd>
      </div>
    </dl>
    ${
      queue.keys.length
        ? html`<div class="table-wrap">
            <table class="stack" data-testid="queue-keys">
              <caption class="visually-hidden">
                Running and waiting starts per key
              </caption>
              <thead>
                <tr>
                  <th scope="col">Bound</th>
                  <th scope="col">Key</th>
                  <th scope="col">Running</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Oldest waiting</th>
                </tr>
              </thead>
              <tbody>
                ${queue.keys.map(
                  (k) =>
                    html`<tr key=${`${k.bound}:${k.key}`}>
                      <th scope="row" data-label="Bound">${boundLabel[k.bound] ?? k.bound}</th>
                      <td data-label="Key">${keyLabel(k.key)}</td>
                      <td data-label="Running">${k.running}</td>
                      <td data-label="Waiting">${k.waiting}</td>
                      <td data-label="Oldest waiting">
                        ${k.oldest_waiting_age_ms === null ? "—" : formatDuration(k.oldest_waiting_age_ms)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p class="hint">Nothing runs or waits under the flow's bounds.</p>`
    }
    ${
      queue.throttle
        ? html`<p data-testid="queue-throttle">
            Throttle: ${queue.throttle.limit} per
            ${queue.throttle.period}${queue.throttle.burst ? ` (burst ${queue.throttle.burst})` : ""};
            ${
              queue.throttle.keys.length
                ? queue.throttle.keys.map(
                    (k, i) => html`${i ? ", " : ""}${keyLabel(k.key)} next at ${formatTime(k.next_slot_at)}`,
                  )
                : "no start yet"
            }
          </p>`
        : null
    }
    ${
      queue.collecting.length
        ? html`<ul data-testid="queue-collecting">
            ${queue.collecting.map(
              (g) =>
                html`<li key=${`${g.kind}:${g.key}`}>
                  ${g.kind} ${keyLabel(g.key)}: ${g.events} event${g.events === 1 ? "" : "s"}, starts ${formatTime(g.due_at)}
                </li>`,
            )}
          </ul>`
        : null
    }`;
}
