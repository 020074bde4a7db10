import { createApp } from "./app";
import type { Env } from "./env";
import { withD1Meter } from "./lib/d1-meter";
import { EVENTS_DLQ, EVENTS_QUEUE, handleDeadLetterBatch, handleEventsBatch } from "./queues/events";
import { handleBulkBatch, handleBulkDeadLetters } from "./queues/bulk";
import { BULK_DLQ, BULK_QUEUE } from "./services/bulk-jobs";
import { reconcileAll } from "./services/reconcile-all";

export { ExecutionObject } from "./objects/execution-object";
export { FlowScheduleObject } from "./objects/flow-schedule-object";
export { FlowControlObject } from "./objects/flow-control-object";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, withD1Meter(env), ctx),

  async queue(batch, rawEnv, _ctx) {
    const env = withD1Meter(rawEnv);
    switch (batch.queue) {
      case EVENTS_QUEUE:
        return handleEventsBatch(batch, env);
      case EVENTS_DLQ:
        return handleDeadLetterBatch(batch, env, EVENTS_QUEUE);
      case BULK_QUEUE:
        return handleBulkBatch(batch, env);
      case BULK_DLQ:
        return handleBulkDeadLetters(batch, env);
      default:
        // An unknown queue is a deployment mistake: retry so nothing is lost while it is fixed.
        console.error(`no consumer for queue ${batch.queue}`);
        batch.retryAll();
    }
  },

  /** Every minute: reconciliation only (lost alarms, lost executions, events never processed, retention, stalled bulk jobs). */
  async scheduled(controller, rawEnv, _ctx?: ExecutionContext) {
    // Each step runs even if another fails; failures are logged and reported, never thrown.
    await reconcileAll(withD1Meter(rawEnv), controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
