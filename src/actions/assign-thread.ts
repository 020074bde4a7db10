import { z } from "zod";
import { setThreadFields } from "../services/email-threads";
import { recordChangeEvents } from "../services/record-events";
import { plannedThreadEffect, requireThread, threadEffect } from "./email-thread-support";
import { automationActor, automationEvent, recordFailure } from "./records";
import { defineAction, isResult } from "./types";

/**
 * epilot's assign-thread: removes the `remove` assignees from the execution's e-mail thread and adds the `add`
 * ones (each once), in the thread record's `assignees`.
 */
export const assignThreadAction = defineAction({
  types: ["assign-thread"],
  config: z.looseObject({ add: z.array(z.string()).default([]), remove: z.array(z.string()).default([]) }),
  async run(ctx, cfg) {
    const tc = await requireThread(ctx, "assign-thread");
    if (isResult(tc)) return tc;
    const current = Array.isArray(tc.thread.assignees)
      ? tc.thread.assignees.filter((a): a is string => typeof a === "string")
      : [];
    const kept = current.filter((a) => !cfg.remove.includes(a));
    const assignees = [...new Set([...kept, ...cfg.add])];
    try {
      await setThreadFields(
        ctx.env,
        ctx.orgId,
        automationActor(ctx),
        tc.thread._id,
        { assignees },
        recordChangeEvents(ctx.env, automationEvent(ctx)),
      );
    } catch (err) {
      return recordFailure(err);
    }
    return {
      kind: "success",
      outputs: {
        thread_id: tc.thread._id,
        assignees,
        added: assignees.filter((a) => !current.includes(a)),
        removed: current.filter((a) => !assignees.includes(a)),
      },
      effects: [threadEffect(ctx, tc.thread._id)],
    };
  },
  effects: (ctx) => plannedThreadEffect(ctx),
});
