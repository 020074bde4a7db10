import type { Command, ExecutionData } from "../execution/types";

/**
 * Execution data as a simulated rerun leaves it: the engine's `store_*` commands kept in memory on top of
 * the execution's stored rows, which are read, never written. A deleted output or a cleared loop shadows
 * the stored one.
 */
export class OverlayExecutionData implements ExecutionData {
  private readonly outputs = new Map<string, Record<string, unknown> | null>();
  private readonly items = new Map<string, unknown[]>();
  private readonly iterations = new Map<string, Map<number, Record<string, unknown> | null>>();
  private readonly cleared = new Set<string>();

  constructor(private readonly base: ExecutionData) {}

  output(actionId: string): Record<string, unknown> | undefined {
    if (this.outputs.has(actionId)) return this.outputs.get(actionId) ?? undefined;
    return this.base.output(actionId);
  }

  loopItem(actionId: string, index: number): unknown {
    const items = this.items.get(actionId);
    return items ? items[index] : this.base.loopItem(actionId, index);
  }

  iterationOutputs(actionId: string): (Record<string, unknown> | null)[] {
    const out = this.cleared.has(actionId) ? [] : [...this.base.iterationOutputs(actionId)];
    for (const [i, v] of this.iterations.get(actionId) ?? []) {
      while (out.length < i) out.push(null);
      out[i] = v;
    }
    return out;
  }

  /** Applies the data commands of one advance() (the others are ignored). */
  apply(commands: readonly Command[]): void {
    for (const c of commands) {
      if (c.type === "store_output") this.outputs.set(c.action_id, c.outputs === null ? null : structuredClone(c.outputs));
      else if (c.type === "store_loop_items") this.items.set(c.action_id, structuredClone(c.items));
      else if (c.type === "clear_iterations") {
        this.cleared.add(c.action_id);
        this.iterations.delete(c.action_id);
      } else if (c.type === "store_iteration") {
        const rows = this.iterations.get(c.action_id) ?? new Map<number, Record<string, unknown> | null>();
        this.iterations.set(c.action_id, rows);
        const i = c.iteration.index;
        if (c.outputs !== undefined) rows.set(i, c.outputs === null ? null : structuredClone(c.outputs));
        else if (!rows.has(i) && (this.cleared.has(c.action_id) || this.base.iterationOutputs(c.action_id)[i] === undefined))
          rows.set(i, null);
      }
    }
  }
}
