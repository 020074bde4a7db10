import { DurableObject } from "cloudflare:workers";
import type { FlowControlObjectRpc, FlowControlRun } from "../contracts/flow-control-object";
import type { Env } from "../env";
import { withD1Meter } from "../lib/d1-meter";
import { runFlowControl } from "../services/flow-control";

/**
 * One object per flow with time-driven flow control (`idFromName(flow_id)`): the alarm clock of its debounce
 * and batch groups and its throttled starts (docs/flow-control.md). It holds no queue — D1 does
 * (admission_queue, flow_control_groups) — only which flow it serves and one alarm, kept on the earliest
 * time it was given. On alarm it runs the flow's due work (services/flow-control.ts) and re-arms for the
 * next; a run that throws is retried by the platform, and the per-minute reconciliation runs what a lost
 * alarm left overdue.
 */
export class FlowControlObject extends DurableObject<Env> implements FlowControlObjectRpc {
  /** The object's clock (ms). Tests replace it to move time; due work is decided against it. */
  clock: () => number = () => Date.now();
  /** The last alarm's run (for tests and logs). */
  lastRun: FlowControlRun | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withD1Meter(env));
  }

  async arm(orgId: string, flowId: string, at: number): Promise<void> {
    if ((await this.ctx.storage.get<string>("flow_id")) !== flowId)
      await this.ctx.storage.put({ org_id: orgId, flow_id: flowId });
    const realAt = this.realTime(at);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || realAt < current) await this.ctx.storage.setAlarm(realAt);
  }

  async alarmAt(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  override async alarm(): Promise<void> {
    const orgId = await this.ctx.storage.get<string>("org_id");
    const flowId = await this.ctx.storage.get<string>("flow_id");
    if (!orgId || !flowId) return;
    const run = await runFlowControl(this.env, orgId, flowId, this.clock());
    this.lastRun = run;
    if (run.next_at !== null) {
      const realAt = this.realTime(run.next_at);
      const current = await this.ctx.storage.getAlarm();
      if (current === null || realAt < current) await this.ctx.storage.setAlarm(realAt);
    }
  }

  /** A time on the object's clock as the real alarm time (a moved test clock fires at once). */
  private realTime(at: number): number {
    return Date.now() + Math.max(0, at - this.clock());
  }
}
