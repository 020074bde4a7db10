import { statusLabel } from "./format";
import { flowGraph, type ActionNode, type LoopGroup, type Step } from "./graph-model";
import { html } from "./html";
import type { Flow } from "./types";

/**
 * Draws a flow as nested boxes joined by connectors (CSS lines and arrows), top to bottom so it reads on a
 * phone. With `statuses` (action id → status) it doubles as a run's map.
 */
export function FlowGraphView({ flow, statuses }: { flow: Flow; statuses?: Record<string, string> }) {
  const graph = flowGraph(flow);

  const action = (n: ActionNode) => {
    const status = statuses?.[n.id];
    return html`<li class=${`node action ${status ? `status-${status}` : ""}`} data-testid="graph-action" data-action-id=${n.id}>
      ${n.wait ? html`<span class="wait">${n.wait}</span>` : null}
      <strong>${n.index + 1}. ${n.label}</strong>
      <span class="meta">${n.type}${status ? html` · <span class="node-status">${statusLabel(status)}</span>` : null}</span>
    </li>`;
  };
  const loop = (g: LoopGroup) =>
    html`<li class="node group loop" data-testid="graph-loop">
      <span class="group-label">↻ ${g.label}</span>
      <ol class="lane">
        ${g.children.map(action)}
      </ol>
    </li>`;
  const step = (s: Step): unknown => {
    if (s.kind === "action") return action(s);
    if (s.kind === "loop") return loop(s);
    return html`<li class="node group branch" data-testid="graph-branch">
      ${s.wait ? html`<span class="wait">${s.wait}</span>` : null}
      <span class="group-label">◇ ${s.label}</span>
      <ol class="lane">
        ${s.children.map((c) => (c.kind === "loop" ? loop(c) : action(c)))}
      </ol>
    </li>`;
  };

  return html`<figure class="graph" data-testid="flow-graph">
    <figcaption class="visually-hidden">Triggers, conditions and actions of ${flow.flow_name}, in order</figcaption>
    <ol class="lane">
      <li class="node group triggers">
        <span class="group-label">Triggers (any of)</span>
        <ul class="chips">
          ${graph.triggers.map((t) => html`<li class="chip" data-testid="graph-trigger">⚡ ${t.label}</li>`)}
        </ul>
      </li>
      ${
        graph.gate.length
          ? html`<li class="node group gate" data-testid="graph-gate">
              <span class="group-label">Only if (all of)</span>
              <ul class="chips">
                ${graph.gate.map((g) => html`<li class="chip">${g}</li>`)}
              </ul>
            </li>`
          : null
      }
      ${graph.steps.length ? graph.steps.map(step) : html`<li class="node empty-node">No actions</li>`}
    </ol>
  </figure>`;
}
