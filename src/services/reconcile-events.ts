import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { listDueEvents, markResent, settleInboxEvents } from "../store/event-inbox";
import { recordDeadLetter } from "../store/queue-failures";
import { LIMITS } from "../lib/limits";
import { EVENTS_QUEUE, eventRef, MAX_EVENT_SENDS, nextSendAt } from "./event-queue";

export interface EventReconcileReport {
  resent: number;
  dead: string[];
}

/**
 * The per-minute safety net of the events queue: an event still `queued` in the inbox when its
 * `next_send_at` passes was never processed — its message was lost, or every delivery failed without
 * reaching the dead-letter queue — and is sent again, by reference, waiting twice as long each time.
 * After MAX_EVENT_SENDS sends it is given up: marked dead and recorded as a dead letter. Sending again
 * is always safe: execution ids derive from (event id, flow id), so a second delivery starts nothing new.
 */
export async function reconcileEvents(env: Env, now: number): Promise<EventReconcileReport> {
  const report: EventReconcileReport = { resent: 0, dead: [] };
  const due = await listDueEvents(env.DB, isoNow(now), LIMITS.EVENT_RECONCILE_BATCH);
  const resend = due.filter((e) => e.sends < MAX_EVENT_SENDS);
  const givenUp = due.filter((e) => e.sends >= MAX_EVENT_SENDS);
  for (const e of givenUp) {
    await recordDeadLetter(env.DB, EVENTS_QUEUE, e.id, e.org_id, eventRef(e), e.sends, `Not processed after ${e.sends} sends`);
    report.dead.push(e.id);
  }
  await settleInboxEvents(env.DB, givenUp, "dead", isoNow(now));
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < resend.length; i += 100) {
    const page = resend.slice(i, i + 100);
    await env.EVENTS_QUEUE.sendBatch(
      page.map((e) => ({
        body: eventRef(e),
        contentType: "json" as const,
      })),
    );
    await markResent(
      env.DB,
      page.map((e) => ({ org_id: e.org_id, id: e.id, next_send_at: nextSendAt(e.sends + 1, now) })),
      isoNow(now),
    );
    report.resent += page.length;
  }
  return report;
}
