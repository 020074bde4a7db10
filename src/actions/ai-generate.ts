import { generateStep } from "../llm/ai-generate";
import { AiGenerateConfig } from "../schemas/actions/ai";
import { defineAction, type ActionResult } from "./types";

/**
 * `ai_generate`: one model answer (text, or an object matching `output_schema`), through the step's connection,
 * else its agent's, else the organization's default provider (docs/ai.md). The whole answer, repairs included,
 * is one attempt: a crash repeats it with the same idempotency keys.
 */
export const aiGenerateAction = defineAction({
  types: ["ai_generate"],
  config: AiGenerateConfig,
  async run(ctx, cfg): Promise<ActionResult> {
    const agent = ctx.agent;
    const res = await generateStep({
      env: ctx.env,
      orgId: ctx.orgId,
      settings: {
        ...cfg,
        connection_id: cfg.connection_id ?? agent?.connection_id,
        model: cfg.model ?? agent?.model,
      },
      system: cfg.system ?? agent?.instructions,
      prompt: cfg.prompt,
      idempotencyKey: ctx.idempotencyKey,
    });
    if (res.ok) return { kind: "success", outputs: res.outputs!, request: res.request, response: res.response };
    const f = res.failure!;
    return {
      kind: "failed",
      error: { error_code: f.code, error_reason: f.reason, ...(f.info ? { error_info: f.info } : {}) },
      retry: f.retry,
      request: res.request,
      response: res.response,
    };
  },
});
