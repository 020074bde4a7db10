import { planFlow, type FlowPlan } from "../engine/plan/plan";
import { AutomationFlowInputSchema, type AutomationFlow } from "../schemas/flow";
import { FlowPlanSchema } from "../schemas/flow-plan";
import { asResponse, createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/** The limits planner over HTTP: `POST /flows:plan`, and the `plan` every flow response carries (docs/reruns.md). */

/** A flow as the API returns it: with its plan, computed from the definition on each read (it is pure and cheap). */
export const withPlan = (flow: AutomationFlow): AutomationFlow & { plan: FlowPlan } => ({
  ...flow,
  plan: planFlow(flow),
});

const planRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/flows:plan",
  operationId: "planFlow",
  tags: ["flows"],
  summary:
    "What a flow would cost in the worst case, from its definition alone: action runs (loops at their largest), outbound requests against the Workers subrequest limits, largest payloads against the stored-output caps, total delay, model tokens, estimated CPU. `errors` are why a save would be refused; `warnings` what may exceed a limit.",
  request: jsonBody(AutomationFlowInputSchema),
  responses: {
    200: jsonResponse(FlowPlanSchema, "The plan"),
    ...errorResponses(400, 401, 403, 413, 415),
  },
});

export const flowPlansRouter = createRouter().openapi(planRoute, async (c) =>
  c.json(asResponse(FlowPlanSchema, planFlow(c.req.valid("json"))), 200),
);
