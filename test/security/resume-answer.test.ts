/**
 * Issue 24 item 7: the public resume answer says only what happened. `POST /v1/automation/public/executions:resume`
 * is authenticated by the resume token alone, and the token is often handed to a third party (the system that calls
 * back). The answer keeps epilot's `ResumeResp` shape with only the fields epilot requires: the execution's `id`,
 * `status`, `entity_id`, `org_id`, `flow_id` and `actions` as `{id, type, name, execution_status}`, and
 * `resumedAction` likewise. Configs, outputs, the record, the trigger event and the workflow context stay out.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, createRecord, drive, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

const CANARY = "resume-canary-7f3a";

async function pausedExecution() {
  const record = await createRecord("contact", { name: "Ada", note: `${CANARY}-record` });
  const flow = await createFlow({
    flow_name: `approval ${CANARY}-flow-name`,
    actions: [
      {
        id: "ask",
        name: "Ask for approval",
        type: "custom-action",
        config: { wait_for_callback: true, url: `${SINK}/approve`, headers: { "x-internal": `${CANARY}-header` } },
      },
      { id: "then", name: "Then", type: "call_webhook", config: { url: `${SINK}/then?k=${CANARY}-config` } },
    ],
  });
  const id = await startExec(flow.id, record._id);
  const exec = await drive(id);
  expect(exec.execution_status).toBe("paused");
  const [sent] = await sinkRequests("/approve");
  return { id, flowId: flow.id, entityId: record._id, token: JSON.parse(sent.body).resume_token as string };
}

describe("the public resume answer (item 7)", () => {
  it("holds only the required fields of epilot's ResumeResp", async () => {
    const { id, flowId, entityId, token } = await pausedExecution();
    const res = await call("POST", "/v1/automation/public/executions:resume", { token: null, body: { resume_token: token } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["execution", "resumedAction"]);
    expect(Object.keys(res.body.execution).sort()).toEqual(["actions", "entity_id", "flow_id", "id", "org_id", "status"]);
    expect(res.body.execution).toMatchObject({ id, entity_id: entityId, org_id: "org-a", flow_id: flowId });
    expect(res.body.execution.actions).toEqual([
      { id: "ask", type: "custom-action", name: "Ask for approval", execution_status: expect.any(String) },
      { id: "then", type: "call_webhook", name: "Then", execution_status: expect.any(String) },
    ]);
    expect(res.body.resumedAction).toEqual({
      id: "ask",
      type: "custom-action",
      name: "Ask for approval",
      execution_status: expect.any(String),
    });
    // Nothing of the record, the configs, the flow's name, the outputs or the token itself.
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(token);
  });

  it("the document's ResumeResp names exactly the fields epilot requires", async () => {
    // components.schemas.AutomationExecution.required of epilot's automation API document (the reference copy).
    const required = ["id", "status", "entity_id", "org_id", "flow_id", "actions"];
    const doc = (await call("GET", "/openapi.json", { token: null })).body;
    const schemas = doc.components.schemas;
    const deref = (s: any) => (s?.$ref ? schemas[s.$ref.split("/").pop()] : s);
    const resp = deref(schemas.ResumeResp);
    const execution = deref(resp.properties.execution);
    expect(Object.keys(execution.properties).sort()).toEqual([...required].sort());
    expect(Object.keys(deref(resp.properties.resumedAction).properties).sort()).toEqual([
      "execution_status",
      "id",
      "name",
      "type",
    ]);
  });
});
