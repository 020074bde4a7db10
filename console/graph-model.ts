import type { Flow, FlowAction, FlowCondition, FlowSchedule } from "./types";

/**
 * A flow as a top-to-bottom graph: its triggers, the gate of flow-level conditions, then its actions in order,
 * grouped into branches (actions sharing a condition) and loops (actions sharing a loop), each with its wait.
 * Pure: the page draws it, tests can read it.
 */
export interface ActionNode {
  kind: "action";
  id: string;
  index: number;
  label: string;
  type: string;
  /** A schedule or delay the action waits for before it runs. */
  wait?: string;
}
export interface LoopGroup {
  kind: "loop";
  id: string;
  label: string;
  children: ActionNode[];
}
export interface BranchGroup {
  kind: "branch";
  id: string;
  label: string;
  wait?: string;
  children: (ActionNode | LoopGroup)[];
}
export type Step = ActionNode | LoopGroup | BranchGroup;

export interface FlowGraph {
  triggers: { id: string; type: string; label: string }[];
  gate: string[];
  steps: Step[];
}

export function describeSchedule(s: FlowSchedule | undefined): string | undefined {
  if (!s) return undefined;
  const amount = s.numberOfUnits !== undefined ? `${s.numberOfUnits} ${s.timePeriod ?? "minutes"}` : "at";
  const anchor = s.source.attribute ? `${s.source.origin} ${s.source.attribute}` : `${s.source.origin} ${s.source.id}`;
  return `wait ${amount} ${s.timeRelation ?? "after"} ${anchor}`;
}

export function describeCondition(c: FlowCondition): string {
  if (c.field) return `${c.field} ${c.operator ?? ""} ${c.value === undefined ? "" : JSON.stringify(c.value)}`.trim();
  const parts = (c.statements ?? []).map((s) =>
    `${s.source?.attribute ?? s.source?.schema ?? "value"} ${s.operation.replace(/_/g, " ")} ${(s.values ?? []).join(", ")}`.trim(),
  );
  return parts.length ? parts.join(" and ") : "always";
}

function describeTrigger(t: Flow["triggers"][number]): string {
  const c = t.configuration ?? {};
  const detail = ["schema", "path", "cron", "source_id", "operation", "event", "frequency"]
    .map((k) => (c[k] === undefined ? null : `${k}: ${typeof c[k] === "string" ? c[k] : JSON.stringify(c[k])}`))
    .filter(Boolean)
    .join(", ");
  return detail ? `${t.type} (${detail})` : t.type;
}

function delayOf(a: FlowAction): string | undefined {
  if (a.type !== "delay") return undefined;
  const c = a.config ?? {};
  const text = Object.entries(c)
    .filter(([, v]) => typeof v === "string" || typeof v === "number")
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return text ? `delay: ${text}` : "delay";
}

export function flowGraph(flow: Flow): FlowGraph {
  const conditions = new Map((flow.conditions ?? []).filter((c) => c.id).map((c) => [c.id!, c]));
  const schedules = new Map((flow.schedules ?? []).map((s) => [s.id, s]));
  const loops = new Map((flow.loops ?? []).map((l) => [l.id, l]));
  const referenced = new Set(flow.actions.map((a) => a.condition_id).filter(Boolean));

  const gate = [
    ...(flow.trigger_conditions ?? []).map((t) =>
      `trigger ${t.source} ${t.comparison} ${t.value === undefined ? "" : JSON.stringify(t.value)}`.trim(),
    ),
    ...(flow.conditions ?? []).filter((c) => !c.id || !referenced.has(c.id)).map(describeCondition),
  ];

  const steps: Step[] = [];
  flow.actions.forEach((a, index) => {
    const id = a.id ?? `action-${index}`;
    const node: ActionNode = {
      kind: "action",
      id,
      index,
      label: a.name || a.type,
      type: a.type,
      wait: describeSchedule(a.schedule_id ? schedules.get(a.schedule_id) : undefined) ?? delayOf(a),
    };
    let container: Step[] | (ActionNode | LoopGroup)[] = steps;
    if (a.condition_id) {
      const last = steps[steps.length - 1];
      if (last?.kind === "branch" && last.id === a.condition_id) container = last.children;
      else {
        const c = conditions.get(a.condition_id);
        const branch: BranchGroup = {
          kind: "branch",
          id: a.condition_id,
          label: c ? `if ${describeCondition(c)}` : `if condition ${a.condition_id}`,
          wait: describeSchedule(c?.schedule_id ? schedules.get(c.schedule_id) : undefined),
          children: [],
        };
        steps.push(branch);
        container = branch.children;
      }
    }
    if (a.loop_id) {
      const last = container[container.length - 1];
      if (last?.kind === "loop" && last.id === a.loop_id) last.children.push(node);
      else {
        const loop = loops.get(a.loop_id);
        container.push({
          kind: "loop",
          id: a.loop_id,
          label: `for each item of ${loop?.source_path ?? a.loop_id}`,
          children: [node],
        });
      }
    } else container.push(node);
  });

  return {
    triggers: flow.triggers.map((t, i) => ({ id: t.id ?? `trigger-${i}`, type: t.type, label: describeTrigger(t) })),
    gate,
    steps,
  };
}
