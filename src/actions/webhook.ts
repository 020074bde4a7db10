import { z } from "zod";
import { HttpCallConfig, performHttpCall } from "./http-call";
import { defineAction, permanentFailure } from "./types";

/** epilot's `trigger-webhook` and Coherence's `call_webhook`: one HTTP request to the configured URL. */
export const webhookAction = defineAction({
  types: ["trigger-webhook", "call_webhook"],
  config: HttpCallConfig.partial({ url: true }).extend({ target_webhook_id: z.string().optional() }).passthrough(),
  async run(ctx, cfg) {
    if (!cfg.url) {
      return permanentFailure(
        "BAD_CONFIG",
        cfg.target_webhook_id
          ? `Webhook ${cfg.target_webhook_id} is an epilot webhook configuration; set config.url to call an endpoint`
          : "config.url is required",
      );
    }
    return performHttpCall(ctx, { ...cfg, url: cfg.url }, "TRIGGER_WEBHOOK_ERROR");
  },
});
