import { z } from "zod";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { prepareTool, listTools, type Caller } from "../services/tools";
import { llmFailure } from "./errors";
import { extractJson } from "./json";
import { languageModel } from "./model";
import { DIRECT_INSTRUCTIONS, INTENT_INSTRUCTIONS, TOOLS_INSTRUCTIONS } from "./prompts";
import { resolveProvider, type ResolvedProvider } from "./providers";
import { modelStep } from "./step";

/**
 * The seed's helper operations around chat: a direct answer without tools, the intent of a message, the tools a
 * message needs (model-chosen, kept only when they exist in the catalog), and a tool call checked against its schema
 * without running it (no model involved).
 */

async function ask(env: Env, orgId: string, providerName: string | null | undefined, instructions: string, content: string) {
  const provider = await resolveProvider(env, orgId, providerName);
  try {
    const out = await modelStep({ model: languageModel(env, provider), instructions, messages: [{ role: "user", content }] });
    return { provider, out };
  } catch (err) {
    throw llmFailure(err, provider.provider);
  }
}

const meta = (p: ResolvedProvider) => ({ provider: p.provider, model: p.model });

/** The model's JSON answer, checked; 502 LLM_INVALID_OUTPUT (with the raw text) when it is not what was asked. */
function parseAnswer<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  const json = extractJson(text);
  const parsed = json.ok ? schema.safeParse(json.value) : null;
  if (!parsed?.success) {
    throw new AppError(502, "LLM_INVALID_OUTPUT", `The model did not answer in the requested JSON shape: ${text.slice(0, 300)}`);
  }
  return parsed.data;
}

export async function directResponse(env: Env, orgId: string, input: { content: string; provider?: string | null }) {
  const { provider, out } = await ask(env, orgId, input.provider, DIRECT_INSTRUCTIONS, input.content);
  return { content: out.text, finish_reason: out.finishReason, tokens_used: out.tokens, ...meta(provider) };
}

const Intent = z.object({
  intent: z.enum(["question", "action", "workflow", "other"]),
  requires_tools: z.boolean(),
  confidence: z.number().min(0).max(1).optional(),
  explanation: z.string().max(4000).optional(),
  suggested_tools: z.array(z.string().max(200)).max(50).optional(),
});

const catalogText = (tools: { name: string; description: string }[]) =>
  tools.map((t) => `- ${t.name}: ${t.description}`.slice(0, 300)).join("\n");

export async function explainIntent(env: Env, orgId: string, input: { content: string; provider?: string | null }) {
  const tools = await listTools(env, orgId, true);
  const { provider, out } = await ask(
    env,
    orgId,
    input.provider,
    `${INTENT_INSTRUCTIONS}\n\nTools:\n${catalogText(tools)}`,
    input.content,
  );
  const answer = parseAnswer(Intent, out.text);
  const names = new Set(tools.map((t) => t.name));
  return {
    content: input.content,
    intent: answer.intent,
    requires_tools: answer.requires_tools,
    confidence: answer.confidence ?? null,
    explanation: answer.explanation ?? "",
    suggested_tools: (answer.suggested_tools ?? []).filter((n) => names.has(n)),
    ...meta(provider),
  };
}

const RelevantTools = z.object({
  tools: z.array(z.object({ name: z.string().max(200), reason: z.string().max(2000).optional() })).max(50),
  explanation: z.string().max(4000).optional(),
});

export async function explainTools(env: Env, orgId: string, input: { content: string; provider?: string | null }) {
  const catalog = await listTools(env, orgId, true);
  const { provider, out } = await ask(
    env,
    orgId,
    input.provider,
    `${TOOLS_INSTRUCTIONS}\n\nCatalog:\n${catalogText(catalog)}`,
    input.content,
  );
  const answer = parseAnswer(RelevantTools, out.text);
  const byName = new Map(catalog.map((t) => [t.name, t]));
  return {
    content: input.content,
    explanation: answer.explanation ?? "",
    tools: answer.tools
      .filter((t) => byName.has(t.name))
      .map((t) => {
        const d = byName.get(t.name)!;
        return { name: t.name, title: d.title, reason: t.reason ?? "", available: d.available, platform: d.platform };
      }),
    ignored: answer.tools.filter((t) => !byName.has(t.name)).map((t) => t.name),
    ...meta(provider),
  };
}

/**
 * Checks a tool call as POST /v1/tools/call would before running it: the tool exists (404 otherwise), the arguments
 * match its schema, its connection resolves. Nothing runs and nothing is audited.
 */
export async function validateToolCall(env: Env, who: Caller, input: { name: string; arguments: Record<string, unknown> }) {
  try {
    await prepareTool(env, who, input.name, input.arguments, "validate");
    return { name: input.name, valid: true, errors: [] };
  } catch (err) {
    if (!(err instanceof AppError) || err.code === "UNKNOWN_TOOL" || err.status >= 500) throw err;
    const errors = err.details.length > 0 ? err.details : [{ path: "arguments", message: err.message }];
    return {
      name: input.name,
      valid: false,
      errors: errors.map((e) => ({ path: e.path ?? "", message: e.message, code: err.code })),
    };
  }
}
