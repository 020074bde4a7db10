import type { Command, ExecutionData } from "./types";

const encoder = new TextEncoder();
const byteLength = (json: string): number => encoder.encode(json).length;
const MARK = "…[truncated]";

/** Cuts a JSON value to fit `budget` bytes (serialized): earlier members keep their full value, later ones are cut or dropped. */
function cut(value: unknown, budget: number): unknown {
  const json = JSON.stringify(value);
  if (json === undefined || byteLength(json) <= budget) return value;
  if (typeof value === "string") {
    // Strings are cut by characters; a multi-byte tail may leave a little slack, which only errs small.
    const keep = Math.max(0, Math.floor((budget - MARK.length - 2) / 3));
    return value.slice(0, keep) + MARK;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    let used = 2;
    for (const item of value) {
      const room = budget - used - 1;
      if (room < 16) break;
      const v = cut(item, room);
      used += byteLength(JSON.stringify(v) ?? "null") + 1;
      out.push(v);
    }
    return out;
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    let used = 2;
    for (const [k, item] of Object.entries(value)) {
      const keyBytes = byteLength(JSON.stringify(k)) + 2;
      const room = budget - used - keyBytes;
      if (room < 16) break;
      const v = cut(item, room);
      const s = JSON.stringify(v);
      if (s === undefined) continue;
      used += keyBytes + byteLength(s);
      out[k] = v;
    }
    return out;
  }
  return null;
}

/**
 * Caps stored outputs at `maxBytes` (serialized). Over it, they are cut (strings shortened, arrays and
 * objects shortened from the end) and marked `truncated: true`, so a reader knows the value is partial.
 */
export function capOutput(
  outputs: Record<string, unknown>,
  maxBytes: number,
): { outputs: Record<string, unknown>; truncated: boolean } {
  const json = JSON.stringify(outputs);
  if (byteLength(json) <= maxBytes) return { outputs, truncated: false };
  const room = Math.max(64, maxBytes - 32);
  const trimmed = cut(JSON.parse(json) as Record<string, unknown>, room) as Record<string, unknown>;
  return { outputs: { ...trimmed, truncated: true }, truncated: true };
}

/**
 * Execution data kept in memory, fed by the engine's `store_*` commands: what a replay, a dry run or a
 * table test uses in place of the object's rows. Values are cloned in and out, as storage would.
 */
export class MemoryExecutionData implements ExecutionData {
  readonly outputs = new Map<string, Record<string, unknown>>();
  readonly items = new Map<string, unknown[]>();
  readonly iterations = new Map<string, Map<number, Record<string, unknown> | null>>();

  output(actionId: string): Record<string, unknown> | undefined {
    return this.outputs.get(actionId);
  }

  loopItem(actionId: string, index: number): unknown {
    return this.items.get(actionId)?.[index];
  }

  iterationOutputs(actionId: string): (Record<string, unknown> | null)[] {
    const rows = this.iterations.get(actionId);
    if (!rows) return [];
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** Applies the data commands of one advance() (the others are ignored). */
  apply(commands: readonly Command[]): void {
    for (const c of commands) {
      if (c.type === "store_output") {
        if (c.outputs === null) this.outputs.delete(c.action_id);
        else this.outputs.set(c.action_id, structuredClone(c.outputs));
      } else if (c.type === "store_loop_items") {
        if (c.items.length === 0) this.items.delete(c.action_id);
        else this.items.set(c.action_id, structuredClone(c.items));
      } else if (c.type === "store_iteration") {
        const rows = this.iterations.get(c.action_id) ?? new Map<number, Record<string, unknown> | null>();
        this.iterations.set(c.action_id, rows);
        if (c.outputs !== undefined) rows.set(c.iteration.index, c.outputs === null ? null : structuredClone(c.outputs));
        else if (!rows.has(c.iteration.index)) rows.set(c.iteration.index, null);
      } else if (c.type === "clear_iterations") {
        this.iterations.delete(c.action_id);
      }
    }
  }
}
