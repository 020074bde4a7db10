import type { Env } from "../../env";
import type { Principal } from "../../lib/principal";
import type { AutomationFlow } from "../../schemas/flow";
import { createFlow, requireFlow, updateFlow } from "../../services/flows";
import { NOUN } from "./schemas";
import { trustpagerLens, type TpModel } from "./translate";

/** The TrustPager automation document of a stored flow, with the server-set fields (and `x_native` when lossy). */
export function present(flow: AutomationFlow) {
  const view = trustpagerLens.read(flow);
  const { doc: model, exact } = view;
  return {
    id: flow.id,
    ...model,
    trigger_type: exact || model.trigger_type !== "manual" ? model.trigger_type : "native",
    conditions: model.conditions,
    triggers: model.triggers.map((t) => ({ ...t, automation_id: flow.id })),
    actions: [...model.actions].sort((a, b) => a.sequence - b.sequence).map((a) => ({ ...a, automation_id: flow.id })),
    created_at: flow.created_at,
    updated_at: flow.updated_at,
    last_run_at: flow.last_run_at,
    run_count: flow.runs,
    ...trustpagerLens.native(view, flow),
  };
}

/** The automation as a TrustPager model that can be written back; 409 when the flow says more than the model can. */
export async function editable(env: Env, p: Principal, id: string): Promise<{ flow: AutomationFlow; model: TpModel }> {
  const flow = await requireFlow(env, p.orgId, id, NOUN);
  return { flow, model: trustpagerLens.editable(flow).doc };
}

export async function createAutomation(env: Env, p: Principal, model: TpModel) {
  return present(await createFlow(env, p, trustpagerLens.write(model), NOUN));
}

export async function saveAutomation(env: Env, p: Principal, flow: AutomationFlow, model: TpModel) {
  return present(await updateFlow(env, p, flow, trustpagerLens.write(model), NOUN));
}

/** Loads, changes and saves an automation through its TrustPager model. */
export async function mutate(env: Env, p: Principal, id: string, change: (m: TpModel) => TpModel | void) {
  const { flow, model } = await editable(env, p, id);
  const next = change(model) ?? model;
  return saveAutomation(env, p, flow, next);
}
