import type { ModelMessage } from "ai";
import type { Env } from "../env";
import { AppError, type ErrorDetail } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import { AutomationFlowInputSchema, type AutomationFlow, type ParsedFlowInput } from "../schemas/flow";
import { createFlow } from "../services/flows";
import { listTools, type ToolDescriptor } from "../services/tools";
import { llmFailure } from "./errors";
import { extractJson } from "./json";
import { languageModel } from "./model";
import { generationInstructions, repairRequest } from "./prompts";
import { resolveProvider } from "./providers";
import { modelStep } from "./step";

/**
 * A flow from a description (seed 002 "Natural Language Workflow Generation"): the model proposes a flow in the native
 * shape, our zod schema and the flow-write checks validate it, and an invalid proposal goes back to the model with
 * the errors, at most LLM_MAX_REPAIR_ATTEMPTS times. Only a valid flow is saved, and always disabled; a proposal that
 * never becomes valid is refused with 422 and the last errors. Nothing is stored before the flow is valid.
 */

export interface GenerateInput {
  description: string;
  name?: string | null;
  provider?: string | null;
}

const issuesOf = (issues: { path: PropertyKey[]; message: string }[]): ErrorDetail[] =>
  issues.map((i) => ({ path: i.path.map(String).join("."), location: "proposal", message: i.message }));

/** Integration actions must name a platform/action pair of the catalog (the schema cannot know the catalog). */
function catalogProblems(flow: ParsedFlowInput, catalog: ToolDescriptor[]): ErrorDetail[] {
  const pairs = new Set(catalog.filter((t) => t.kind === "provider").map((t) => `${t.platform}/${t.action}`));
  const problems: ErrorDetail[] = [];
  flow.actions.forEach((a, i) => {
    if (a.type !== "integration") return;
    const { platform, action } = a.config;
    if (!pairs.has(`${platform}/${action}`)) {
      problems.push({
        path: `actions.${i}.config`,
        location: "proposal",
        message: `No catalog tool for platform "${platform}", action "${action}"`,
      });
    }
  });
  return problems;
}

type Check = { ok: true; flow: ParsedFlowInput } | { ok: false; errors: ErrorDetail[] };

function checkProposal(text: string, input: GenerateInput, catalog: ToolDescriptor[]): Check {
  const json = extractJson(text);
  if (!json.ok) return { ok: false, errors: [{ path: "", location: "proposal", message: json.error }] };
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value)) {
    return { ok: false, errors: [{ path: "", location: "proposal", message: "The flow must be a JSON object" }] };
  }
  // The caller's name wins, and a generated flow is always saved disabled, whatever the proposal says.
  const candidate: Record<string, unknown> = { ...json.value, ...(input.name ? { flow_name: input.name } : {}), enabled: false };
  candidate.flow_name ??= input.description.slice(0, LIMITS.MAX_NAME_LENGTH);
  const parsed = AutomationFlowInputSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, errors: issuesOf(parsed.error.issues) };
  const problems = catalogProblems(parsed.data, catalog);
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, flow: parsed.data };
}

/**
 * Saves a schema-valid proposal through the flow write path, whose own checks (webhook secrets, filters, templates,
 * outbound URLs, size) run before anything is written: their refusal is one more thing to repair.
 */
async function save(
  env: Env,
  p: Principal,
  flow: ParsedFlowInput,
): Promise<{ ok: true; flow: AutomationFlow } | { ok: false; errors: ErrorDetail[] }> {
  try {
    return { ok: true, flow: await createFlow(env, p, flow) };
  } catch (err) {
    if (!(err instanceof AppError) || (err.status !== 400 && err.status !== 413)) throw err;
    const errors = err.details.length > 0 ? err.details : [{ path: "", message: err.message }];
    return { ok: false, errors: errors.map((e) => ({ ...e, location: "proposal" })) };
  }
}

export async function generateWorkflow(env: Env, p: Principal, input: GenerateInput) {
  const provider = await resolveProvider(env, p.orgId, input.provider);
  const model = languageModel(env, provider);
  const catalog = await listTools(env, p.orgId, true);
  const instructions = generationInstructions(
    catalog.map((t) => ({ name: t.name, platform: t.platform, action: t.action, params: t.inputSchema.properties ?? {} })),
  );
  const messages: ModelMessage[] = [{ role: "user", content: input.description }];
  let errors: ErrorDetail[] = [];
  for (let attempt = 1; attempt <= 1 + LIMITS.LLM_MAX_REPAIR_ATTEMPTS; attempt++) {
    let text: string;
    try {
      text = (await modelStep({ model, instructions, messages })).text;
    } catch (err) {
      throw llmFailure(err, provider.provider);
    }
    const check = checkProposal(text, input, catalog);
    const saved = check.ok ? await save(env, p, check.flow) : check;
    if (saved.ok) {
      const flow = saved.flow;
      return {
        workflow_id: flow.id,
        status: "disabled" as const,
        flow,
        attempts: attempt,
        provider: provider.provider,
        model: provider.model,
      };
    }
    errors = saved.errors;
    messages.push({ role: "assistant", content: text || "(empty answer)" }, { role: "user", content: repairRequest(errors) });
  }
  throw new AppError(
    422,
    "INVALID_PROPOSAL",
    `The model's flow was still invalid after ${LIMITS.LLM_MAX_REPAIR_ATTEMPTS} repairs (LLM_MAX_REPAIR_ATTEMPTS); nothing was saved`,
    errors,
  );
}
