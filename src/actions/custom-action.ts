import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { httpEffect } from "../engine/reruns/side-effects";
import { performHttpCall } from "./http-call";
import { defineAction, permanentFailure, type ActionResult } from "./types";

/**
 * epilot's custom-action. With `url`, the engine calls it (sending the resume token when it waits for a
 * callback); with `wait_for_callback`, the execution pauses until the token is used on
 * `POST /v1/automation/public/executions:resume`.
 */
export const customAction = defineAction({
  types: ["custom-action"],
  config: z
    .object({
      name: z.string().optional(),
      wait_for_callback: z.boolean().default(false),
      url: z.string().url().optional(),
      method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
      headers: z.record(z.string(), z.string()).default({}),
      payload: z.unknown().optional(),
      timeout_ms: z.number().int().min(LIMITS.MIN_WEBHOOK_TIMEOUT_MS).max(LIMITS.MAX_WEBHOOK_TIMEOUT_MS).optional(),
    })
    .passthrough(),
  async run(ctx, cfg) {
    if (!cfg.url && !cfg.wait_for_callback) {
      return permanentFailure("BAD_CONFIG", "custom-action needs config.url, config.wait_for_callback, or both");
    }
    const token = cfg.wait_for_callback ? await ctx.issueResumeToken() : undefined;
    let request: unknown;
    let response: unknown;
    let effects: ActionResult["effects"] = [];
    let outputs: Record<string, unknown> = {};
    if (cfg.url) {
      const body = {
        execution_id: ctx.executionId,
        action_id: ctx.actionId,
        entity_id: ctx.entityId,
        payload: cfg.payload ?? null,
        ...(token ? { resume_token: token.token, resume_path: "/v1/automation/public/executions:resume" } : {}),
      };
      const result = await performHttpCall(
        ctx,
        { url: cfg.url, method: cfg.method, headers: cfg.headers, body, timeout_ms: cfg.timeout_ms },
        "CUSTOM_ACTION_ERROR",
      );
      if (result.kind !== "success" || !token) return result;
      ({ request, response, outputs, effects } = result);
    }
    // The token itself is shown only by getExecution (`resume_token`, to who may resume); outputs keep no copy.
    return {
      kind: "paused",
      token_hash: token!.hash,
      outputs: { ...outputs, waiting_for_callback: true },
      request,
      response,
      effects,
    };
  },
  effects: (ctx, cfg) => (cfg.url ? [httpEffect(cfg.method, cfg.url, ctx.idempotencyKey)] : []),
});
