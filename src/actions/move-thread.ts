import { z } from "zod";
import { setThreadFields } from "../services/email-threads";
import { recordChangeEvents } from "../services/record-events";
import { INBOXES, getResource } from "../store/platform-resources";
import { plannedThreadEffect, requireThread, threadEffect } from "./email-thread-support";
import { automationActor, automationEvent, recordFailure } from "./records";
import { defineAction, permanentFailure, isResult } from "./types";

/** epilot's move-thread: the execution's e-mail thread moves to the inbox `target_inbox_id` (docs/platform.md). */
export const moveThreadAction = defineAction({
  types: ["move-thread"],
  config: z.looseObject({ target_inbox_id: z.string().optional() }),
  async run(ctx, cfg) {
    if (!cfg.target_inbox_id) return permanentFailure("BAD_CONFIG", "move-thread needs config.target_inbox_id");
    const inbox = await getResource(ctx.env.DB, INBOXES, ctx.orgId, cfg.target_inbox_id);
    if (!inbox) {
      return permanentFailure("BAD_CONFIG", `Inbox ${cfg.target_inbox_id} does not exist (deleted after the flow was saved?)`, {
        code: "INBOX_NOT_FOUND",
        target_inbox_id: cfg.target_inbox_id,
      });
    }
    const tc = await requireThread(ctx, "move-thread");
    if (isResult(tc)) return tc;
    const previous = typeof tc.thread.inbox_id === "string" ? tc.thread.inbox_id : null;
    try {
      await setThreadFields(
        ctx.env,
        ctx.orgId,
        automationActor(ctx),
        tc.thread._id,
        { inbox_id: inbox.id },
        recordChangeEvents(ctx.env, automationEvent(ctx)),
      );
    } catch (err) {
      return recordFailure(err);
    }
    return {
      kind: "success",
      outputs: { thread_id: tc.thread._id, previous_inbox_id: previous, inbox_id: inbox.id },
      effects: [threadEffect(ctx, tc.thread._id)],
    };
  },
  effects: (ctx) => plannedThreadEffect(ctx),
});
