/**
 * What a FlowControlObject answers over RPC (objects/flow-control-object.ts implements it; env.ts types the
 * FLOW_CONTROL namespace with it). One object per flow with time-driven flow control: the alarm clock of its
 * debounce and batch groups and its throttled starts. Types only.
 */

/** What one run of a flow's due flow-control work did. */
export interface FlowControlRun {
  /** Executions started by the groups flushed (debounce, batch). */
  flushed: string[];
  /** Waiting starts admitted (a throttle time came, a slot was free). */
  promoted: string[];
  /** Waiting starts cancelled by a singleton `cancel_previous` whose index rows were completed. */
  settled: string[];
  /** Holders a singleton `cancel_previous` asked to cancel, asked again. */
  cancelled: string[];
  /** When the flow next has time-driven work (ms on the object's clock), or null. */
  next_at: number | null;
}

export interface FlowControlObjectRpc {
  /** Wakes the object at `at` (ms on its clock) at the latest: it keeps the earliest of the times it was given. */
  arm(orgId: string, flowId: string, at: number): Promise<void>;
  /** The armed alarm in real time (ms), or null. */
  alarmAt(): Promise<number | null>;
}
