/**
 * The fixture registry: the resources of one organization that operations' ids point at (created through the
 * API with the admin key), a valid body per operation, and the defects reported to other files' owners. Add to
 * PATH_FIXTURES when an operation with new path parameters appears: the isolation matrix fails until you do.
 */
import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { BASE } from "../helpers";
import { minimalValue } from "./json-schema";
import { adminCredential, type OpenApiDocument, type Operation } from "./openapi";

export const SINK_URL = "http://sink.test/fixture";
export const WEBHOOK_PATH = "fixture-hook";
/**
 * Path parameters that name a namespace, not a resource: any valid value exists (maybe empty), so an unknown one
 * is not refused. `name` for every operation, `operationId:name` for one. Organization ids need no registration,
 * so deleting an unregistered one is allowed (it revokes whatever credentials and flows that id has).
 */
// A workflow template id names an entry of the static catalog, the same for every organization.
export const NAMESPACE_PARAMS = new Set(["schema", "deleteOrganization:org_id", "arrotechUseTemplate:template_id"]);
export const isNamespaceParam = (op: Operation, name: string): boolean =>
  NAMESPACE_PARAMS.has(name) || NAMESPACE_PARAMS.has(`${op.id}:${name}`);

async function adminJson(org: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await SELF.fetch(`${BASE}${path}`, {
    method,
    headers: { ...adminCredential(org).headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`fixture ${method} ${path} in ${org}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A flow that runs at once: a manual and an unsigned webhook trigger, one call_webhook action `a` to the sink. */
export const quickFlowBody = (name: string) => ({
  flow_name: name,
  triggers: [{ type: "manual" }, { type: "webhook", configuration: { path: WEBHOOK_PATH, allow_unsigned: true } }],
  actions: [
    { id: "a", name: "notify", type: "call_webhook", config: { url: SINK_URL, method: "POST", body: { v: "{{ record.v }}" } } },
  ],
});

/** A flow whose action `a` waits an hour on schedule `later`: its executions stay active (cancellable). */
const waitingFlowBody = (name: string) => ({
  flow_name: name,
  triggers: [{ type: "manual" }],
  schedules: [
    { id: "later", numberOfUnits: 1, timePeriod: "hours", timeRelation: "after", source: { id: "x", origin: "automation" } },
  ],
  actions: [{ id: "a", type: "call_webhook", schedule_id: "later", config: { url: SINK_URL } }],
});

/** Lazily created resources of one organization, each made once through the API with the admin key. */
export class Fixtures {
  private readonly made = new Map<string, Promise<unknown>>();
  /** Every id created, so a test can look for them in another org's responses. */
  readonly ids = new Set<string>();

  constructor(readonly org: string) {}

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.made.has(key)) this.made.set(key, make());
    return this.made.get(key) as Promise<T>;
  }

  /** Forgets what was made (after a DELETE consumed it), so the next use creates a fresh one: `keys`, or everything. */
  reset(keys?: string[]): void {
    if (!keys) this.made.clear();
    else for (const k of keys) this.made.delete(k);
  }

  private track<T extends string>(id: T): T {
    this.ids.add(id);
    return id;
  }

  quickFlow = () =>
    this.once("quickFlow", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/automation/flows", quickFlowBody("fixture quick"))).id as string),
    );
  waitingFlow = () =>
    this.once("waitingFlow", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/automation/flows", waitingFlowBody("fixture waiting"))).id as string),
    );
  execution = () =>
    this.once("execution", async () => {
      const flowId = await this.waitingFlow();
      const exec = await adminJson(this.org, "POST", "/v1/automation/executions", {
        flow_id: flowId,
        entity_id: "fixture-entity",
      });
      return this.track(exec.id as string);
    });
  run = () =>
    this.once("run", async () => {
      const flowId = await this.quickFlow();
      return this.track(
        (await adminJson(this.org, "POST", `/v1/automation/flows/${flowId}/trigger`, { test_data: { v: 1 } })).run_id as string,
      );
    });
  record = () =>
    this.once("record", async () => {
      const rec = await adminJson(this.org, "POST", "/v1/entities/fixture_thing", { name: "fixture", v: 1 });
      return { schema: "fixture_thing", id: this.track(rec._id as string) };
    });
  apiKey = () =>
    this.once("apiKey", async () =>
      this.track(
        (await adminJson(this.org, "POST", "/v1/api-keys", { name: "fixture", scopes: ["automations:read"] })).id as string,
      ),
    );
  connection = () =>
    this.once("connection", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/connections", connectionBody("fixture"))).id as string),
    );
  /** A notification in the superuser's inbox (the admin key's user), written by the send_notification tool. */
  notification = () =>
    this.once("notification", async () => {
      const res = await adminJson(this.org, "POST", "/v1/tools/call", {
        name: "send_notification",
        arguments: { user_id: "superuser", title: "fixture" },
      });
      const id = (res.data as { notification_id?: string } | null)?.notification_id;
      if (!id) throw new Error(`send_notification returned no id: ${JSON.stringify(res)}`);
      return this.track(id);
    });
  /** A bulk job over the fixture record, and the task token that approves or cancels it. */
  bulkJob = () =>
    this.once("bulkJob", async () => {
      const [flowId, rec] = await Promise.all([this.quickFlow(), this.record()]);
      const job = await adminJson(this.org, "POST", "/v1/automation/executions/bulk-jobs", {
        flow_id: flowId,
        entities_refs: [{ entity_id: rec.id, entity_schema: rec.schema }],
      });
      return { id: this.track(job.job_id as string), token: job.task_token as string };
    });
  /** The resume token of an execution paused on a custom-action waiting for its callback. */
  resumeToken = () =>
    this.once("resumeToken", async () => {
      const flow = await adminJson(this.org, "POST", "/v1/automation/flows", {
        flow_name: "fixture paused",
        triggers: [{ type: "manual" }],
        actions: [{ id: "w", type: "custom-action", config: { name: "Approve", wait_for_callback: true, url: SINK_URL } }],
      });
      const exec = await adminJson(this.org, "POST", "/v1/automation/executions", {
        flow_id: flow.id,
        entity_id: "fixture-entity",
      });
      const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(exec.id as string));
      for (let i = 0; i < 20; i++) {
        const view = await adminJson(this.org, "GET", `/v1/automation/executions/${exec.id}`);
        const token = view.resume_token as string | undefined;
        if (token) return token;
        // Fire the execution's alarm on purpose rather than waiting for it.
        await runDurableObjectAlarm(stub);
      }
      throw new Error(`execution ${exec.id} did not pause`);
    });
  /** A TrustPager automation (dialect): trigger row `row1` and call_webhook action `a` to the sink. */
  tpAutomation = () =>
    this.once("tpAutomation", async () => {
      const base = "/api/v1/automations";
      const a = await adminJson(this.org, "POST", base, { name: "fixture tp", trigger_type: "manual" });
      await adminJson(this.org, "POST", `${base}/${a.id}/triggers`, { id: "row1", source_type: "manual" });
      await adminJson(this.org, "POST", `${base}/${a.id}/actions`, {
        id: "a",
        action_type: "call_webhook",
        sequence: 1,
        config: { url: SINK_URL },
      });
      return this.track(a.id as string);
    });
  /** An Arrotech agent (dialect) on the quick flow, without a schedule. */
  agent = () =>
    this.once("agent", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/agents", { workflow_id: await this.quickFlow() })).agent_id as string),
    );
  /** A Coherence automation (dialect): enabled, manual trigger, one call_webhook action to the sink. */
  cohAutomation = () =>
    this.once("cohAutomation", async () => {
      const res = await adminJson(this.org, "POST", "/v1/automations", {
        name: "fixture coherence",
        trigger: { type: "manual" },
        actions: [{ type: "call_webhook", config: { url: SINK_URL, method: "POST" } }],
        enabled: true,
      });
      return this.track(res.data.id as string);
    });
  tpRun = () =>
    this.once("tpRun", async () => {
      const id = await this.tpAutomation();
      return this.track((await adminJson(this.org, "POST", `/api/v1/automations/${id}/trigger`, {})).run_id as string);
    });
  /** An LLM conversation without messages (the org has no LLM provider: sending answers 409 before storing). */
  conversation = () =>
    this.once("conversation", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/conversations", { title: "fixture" })).id as string),
    );
  // epilot's platform in miniature (docs/platform.md): one of each resource.
  file = () =>
    this.once("file", async () => {
      const res = await SELF.fetch(`${BASE}/v1/files?filename=fixture.txt`, {
        method: "POST",
        headers: { ...adminCredential(this.org).headers, "content-type": "text/plain" },
        body: "fixture file",
      });
      if (res.status !== 201) throw new Error(`fixture upload in ${this.org}: ${res.status} ${await res.text()}`);
      return this.track(((await res.json()) as { id: string }).id);
    });
  webhookTarget = () =>
    this.once("webhookTarget", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/webhook-targets", webhookTargetBody("fixture"))).id as string),
    );
  emailTemplate = () =>
    this.once("emailTemplate", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/email-templates", emailTemplateBody("fixture"))).id as string),
    );
  documentTemplate = () =>
    this.once("documentTemplate", async () =>
      this.track(
        (await adminJson(this.org, "POST", "/v1/document-templates", { name: "fixture", content: "# {{ entity.name }}" }))
          .id as string,
      ),
    );
  inbox = () =>
    this.once("inbox", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/inboxes", { name: "fixture" })).id as string),
    );
  mappingConfig = () =>
    this.once("mappingConfig", async () =>
      this.track((await adminJson(this.org, "POST", "/v1/mapping-configs", mappingConfigBody("fixture"))).id as string),
    );
  /** An organization this one asked for a partnership (pending: the other side has not asked). */
  partner = () =>
    this.once("partner", async () => {
      const id = `${this.org}-partner`.slice(0, 64);
      await adminJson(this.org, "POST", "/v1/partners", { partner_org_id: id });
      return this.track(id);
    });
  /** A record a partner organization shared with this one through trigger-share-entity. */
  sharedEntity = () =>
    this.once("sharedEntity", async () => {
      const partner = `${this.org}-sharer`.slice(0, 64);
      await adminJson(this.org, "POST", "/v1/partners", { partner_org_id: partner });
      await adminJson(partner, "POST", "/v1/partners", { partner_org_id: this.org });
      const rec = await adminJson(partner, "POST", "/v1/entities/fixture_shared", { name: "shared" });
      const flow = await adminJson(partner, "POST", "/v1/automation/flows", {
        flow_name: "fixture share",
        triggers: [{ type: "manual" }],
        actions: [{ id: "s", type: "trigger-share-entity", config: { partner_org_ids: [this.org] } }],
      });
      const exec = await adminJson(partner, "POST", "/v1/automation/executions", { flow_id: flow.id, entity_id: rec._id });
      const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(exec.id as string));
      for (let i = 0; i < 20; i++) {
        const view = await adminJson(partner, "GET", `/v1/automation/executions/${exec.id}`);
        if (view.execution_status === "success") return this.track(rec._id as string);
        // Fire the execution's alarm on purpose rather than waiting for it.
        await runDurableObjectAlarm(stub);
      }
      throw new Error(`sharing execution ${exec.id} did not finish`);
    });
  /** A registered organization (superuser operation); its id is this fixture org's id plus a suffix. */
  organization = () =>
    this.once("organization", async () => {
      const id = `${this.org}-reg-${crypto.randomUUID().slice(0, 8)}`.slice(0, 64);
      return this.track((await adminJson(this.org, "POST", "/v1/organizations", { id, name: "fixture" })).id as string);
    });
}

const connectionBody = (name: string) => ({ platform: "http", name, config: { base_url: "http://sink.test/connection" } });
const webhookTargetBody = (name: string) => ({ name, url: SINK_URL, auth: { type: "bearer", token: "fixture-token" } });
const emailTemplateBody = (name: string) => ({ name, en: { subject: "Hello {{ entity.name }}", body_html: "<p>fixture</p>" } });
const mappingConfigBody = (name: string) => ({
  name,
  source_schema: "fixture_thing",
  targets: [{ id: "t", target_schema: "fixture_target", mapping_attributes: [{ target: "name", operation: { _copy: "name" } }] }],
});

interface PathFixture {
  /** The operation's path parameters, exactly (order does not matter). */
  params: string[];
  /** What a successful DELETE consumes (Fixtures method names); everything when absent. */
  consumes?: string[];
  /** Tells apart operations with the same parameter names. */
  path?: RegExp;
  values: (f: Fixtures) => Promise<Record<string, string>>;
}

/**
 * How to fill the path parameters of an operation with ids of existing resources. Add an entry when you add
 * an operation whose parameters are not here: the isolation matrix fails until you do.
 */
export const PATH_FIXTURES: PathFixture[] = [
  { params: ["key_id"], consumes: ["apiKey"], values: async (f) => ({ key_id: await f.apiKey() }) },
  {
    params: ["flow_id", "path"],
    path: /^\/v1\/webhooks\//,
    values: async (f) => ({ flow_id: await f.quickFlow(), path: WEBHOOK_PATH }),
  },
  { params: ["flow_id", "action_id"], values: async (f) => ({ flow_id: await f.quickFlow(), action_id: "a" }) },
  { params: ["flow_id"], values: async (f) => ({ flow_id: await f.quickFlow() }) },
  { params: ["schema"], values: async (f) => ({ schema: (await f.record()).schema }) },
  { params: ["schema", "id"], consumes: ["record"], values: async (f) => f.record() },
  { params: ["execution_id"], consumes: ["execution"], values: async (f) => ({ execution_id: await f.execution() }) },
  { params: ["execution_id", "action_id"], values: async (f) => ({ execution_id: await f.execution(), action_id: "a" }) },
  {
    params: ["execution_id", "schedule_id"],
    consumes: ["execution"],
    values: async (f) => ({ execution_id: await f.execution(), schedule_id: "later" }),
  },
  { params: ["run_id"], values: async (f) => ({ run_id: await f.run() }) },
  {
    params: ["id"],
    path: /^\/api\/v1\/automations\//,
    consumes: ["tpAutomation", "tpRun"],
    values: async (f) => ({ id: await f.tpAutomation() }),
  },
  {
    params: ["id", "triggerId"],
    consumes: ["tpAutomation", "tpRun"],
    values: async (f) => ({ id: await f.tpAutomation(), triggerId: "row1" }),
  },
  {
    params: ["id", "actionId"],
    consumes: ["tpAutomation", "tpRun"],
    values: async (f) => ({ id: await f.tpAutomation(), actionId: "a" }),
  },
  { params: ["runId"], values: async (f) => ({ runId: await f.tpRun() }) },
  {
    params: ["id"],
    path: /^\/v1\/automations\//,
    consumes: ["cohAutomation"],
    values: async (f) => ({ id: await f.cohAutomation() }),
  },
  { params: ["agent_id"], consumes: ["agent"], values: async (f) => ({ agent_id: await f.agent() }) },
  { params: ["template_id"], path: /^\/v1\/agent-templates\//, values: async () => ({ template_id: "daily-digest" }) },
  // An Arrotech workflow is a flow (same id); templates are a static catalog.
  { params: ["workflow_id"], values: async (f) => ({ workflow_id: await f.quickFlow() }) },
  {
    params: ["template_id"],
    path: /^\/v1\/workflow-templates\//,
    values: async () => ({ template_id: "deal-stage-change-task" }),
  },
  { params: ["job_id"], values: async (f) => ({ job_id: (await f.bulkJob()).id }) },
  { params: ["connection_id"], consumes: ["connection"], values: async (f) => ({ connection_id: await f.connection() }) },
  { params: ["notification_id"], values: async (f) => ({ notification_id: await f.notification() }) },
  {
    params: ["conversation_id"],
    consumes: ["conversation"],
    values: async (f) => ({ conversation_id: await f.conversation() }),
  },
  // No call waits in the fixture conversation (it has no model to propose one): a decision on it is a 404.
  {
    params: ["conversation_id", "tool_call_id"],
    values: async (f) => ({ conversation_id: await f.conversation(), tool_call_id: "call_fixture" }),
  },
  { params: ["file_id"], consumes: ["file"], values: async (f) => ({ file_id: await f.file() }) },
  {
    params: ["webhook_target_id"],
    consumes: ["webhookTarget"],
    values: async (f) => ({ webhook_target_id: await f.webhookTarget() }),
  },
  {
    params: ["email_template_id"],
    consumes: ["emailTemplate"],
    values: async (f) => ({ email_template_id: await f.emailTemplate() }),
  },
  {
    params: ["document_template_id"],
    consumes: ["documentTemplate"],
    values: async (f) => ({ document_template_id: await f.documentTemplate() }),
  },
  { params: ["inbox_id"], consumes: ["inbox"], values: async (f) => ({ inbox_id: await f.inbox() }) },
  {
    params: ["mapping_config_id"],
    consumes: ["mappingConfig"],
    values: async (f) => ({ mapping_config_id: await f.mappingConfig() }),
  },
  { params: ["partner_org_id"], consumes: ["partner"], values: async (f) => ({ partner_org_id: await f.partner() }) },
  { params: ["entity_id"], path: /^\/v1\/shared-entities\//, values: async (f) => ({ entity_id: await f.sharedEntity() }) },
  {
    params: ["org_id"],
    consumes: ["organization"],
    path: /^\/v1\/organizations\//,
    values: async (f) => ({ org_id: await f.organization() }),
  },
];

/**
 * A valid request body per operation (the isolation matrix needs the request to reach the handler). Without an
 * entry, the smallest body the document's schema allows is used; when that is refused, the matrix says so.
 */
export const BODY_FIXTURES: Record<string, (f: Fixtures) => Promise<unknown>> = {
  createApiKey: async () => ({ name: "matrix", scopes: ["automations:read"] }),
  testCondition: async () => ({ condition: { field: "v", operator: "equals", value: 1 }, context: { entity: { v: 1 } } }),
  renderTemplates: async () => ({ parameters: { greeting: "Hi {{ entity.name }}" }, context: { entity: { name: "Ada" } } }),
  createFlow: async () => quickFlowBody("matrix flow"),
  putFlow: async () => quickFlowBody("matrix flow (updated)"),
  batchGetFlows: async (f) => ({ ids: [await f.quickFlow()] }),
  createEntity: async () => ({ name: "matrix", v: 2 }),
  patchEntity: async () => ({ v: 3 }),
  startExecution: async (f) => ({ flow_id: await f.quickFlow(), entity_id: "matrix-entity" }),
  retriggerAction: async () => ({}),
  resumeExecutionWithToken: async (f) => ({ resume_token: await f.resumeToken() }),
  executeFlowAction: async () => ({ test_data: { v: 4 } }),
  receiveWebhook: async () => ({ hello: "world" }),
  triggerFlow: async () => ({ test_data: { v: 5 } }),
  testFlow: async () => ({ test_data: { v: 6 } }),
  bulkTriggerExecutions: async (f) => {
    const [flowId, rec] = await Promise.all([f.quickFlow(), f.record()]);
    return { flow_id: flowId, entities_refs: [{ entity_id: rec.id, entity_schema: rec.schema }] };
  },
  patchBulkJob: async (f) => ({ action: "CANCEL", task_token: (await f.bulkJob()).token }),
  createConnection: async () => connectionBody("matrix"),
  updateConnection: async () => ({ name: "matrix (renamed)" }),
  testConnectionConfig: async () => ({ platform: "http", config: { base_url: "http://sink.test/connection" } }),
  markNotificationRead: async () => ({ read: true }),
  executeAutomation: async () => ({
    automationType: "core",
    nodeParams: { action: "send_notification", params: { user_id: "superuser", title: "matrix" } },
  }),
  callTool: async () => ({ name: "send_notification", arguments: { user_id: "superuser", title: "matrix" } }),
  callToolStream: async () => ({ name: "send_notification", arguments: { user_id: "superuser", title: "matrix" } }),
  submitApiEvent: async () => ({ source_id: "matrix-source", payload: { v: 7 } }),
  submitAutomationEvent: async () => ({ type: "flows_trigger", journey_id: "matrix-journey", payload: { v: 7 } }),
  pluraExecute: async () => ({
    automationType: "core",
    nodeParams: { action: "send_notification", params: { user_id: "superuser", title: "matrix" } },
  }),
  coherenceCreateAutomation: async () => ({ name: "matrix coherence", trigger: { type: "manual" }, actions: [] }),
  coherenceUpdateAutomation: async () => ({ name: "matrix coherence (renamed)", enabled: true }),
  coherenceTestAutomation: async () => ({ test_data: { v: 10 } }),
  coherenceTriggerAutomation: async () => ({ test_data: { v: 11 } }),
  trustpagerCreateAutomation: async () => ({ name: "matrix tp", trigger_type: "manual" }),
  trustpagerUpdateAutomation: async () => ({ name: "matrix tp (renamed)" }),
  trustpagerTriggerAutomation: async () => ({ test_data: { v: 8 } }),
  trustpagerExecuteAction: async () => ({ test_data: { v: 9 } }),
  trustpagerAddTrigger: async () => ({ source_type: "manual" }),
  trustpagerUpdateTrigger: async () => ({ source_id: "contacts" }),
  trustpagerAddAction: async () => ({ action_type: "call_webhook", sequence: 2, config: { url: SINK_URL } }),
  trustpagerReorderActions: async () => ({ action_ids: ["a"] }),
  trustpagerUpdateAction: async () => ({ sequence: 3 }),
  arrotechCreateAgent: async (f) => ({ workflow_id: await f.quickFlow() }),
  arrotechCreateAgentFromTemplate: async (f) => ({ workflow_id: await f.quickFlow() }),
  arrotechScheduleAgent: async () => ({ schedule_config: { interval: 3600 } }),
  arrotechCreateWorkflow: async () => ({ name: "matrix workflow", steps: [] }),
  arrotechCreateWorkflowFromSteps: async () => ({
    workflow_name: "matrix from steps",
    description: "matrix",
    steps: [{ tool: "call_webhook", params: { url: SINK_URL } }],
  }),
  arrotechUpdateWorkflow: async () => ({ name: "matrix workflow (renamed)" }),
  arrotechExecuteWorkflow: async () => ({ input_data: { v: 12 } }),
  arrotechUseTemplate: async () => ({}),
  uploadFile: async () => ({ matrix: "file" }),
  createWebhookTarget: async () => webhookTargetBody("matrix"),
  updateWebhookTarget: async () => ({ name: "matrix (renamed)" }),
  createEmailTemplate: async () => emailTemplateBody("matrix"),
  updateEmailTemplate: async () => ({ name: "matrix (renamed)" }),
  createDocumentTemplate: async () => ({ name: "matrix", content: "# matrix" }),
  updateDocumentTemplate: async () => ({ name: "matrix (renamed)" }),
  createInbox: async () => ({ name: "matrix" }),
  updateInbox: async () => ({ name: "matrix (renamed)" }),
  createMappingConfig: async () => mappingConfigBody("matrix"),
  updateMappingConfig: async () => ({ name: "matrix (renamed)" }),
  requestPartnership: async (f) => ({ partner_org_id: `${f.org}-matrix-partner`.slice(0, 64) }),
  // No quota: a plan here would limit the matrix's own organization.
  setOrganizationPlan: async () => ({ plan: null }),
  createOrganization: async (f) => ({ id: `${f.org}-new-${crypto.randomUUID().slice(0, 8)}`.slice(0, 64), name: "matrix" }),
};

/**
 * Operations whose body refers to resources by id, and what another organization gets when it sends the owner's
 * ids: a status, or "no-leak" (the call succeeds but the owner's ids appear nowhere in the answer).
 */
export const BODY_ID_OPERATIONS: Record<string, number | "no-leak"> = {
  startExecution: 404,
  batchGetFlows: "no-leak",
  arrotechCreateAgent: 404,
};

export class MissingFixtureError extends Error {}

export async function pathValues(op: Operation, f: Fixtures): Promise<Record<string, string>> {
  const entry = pathFixture(op);
  return entry ? entry.values(f) : {};
}

/** The registry entry for the operation's path parameters (undefined when it has none); throws when there is none. */
export function pathFixture(op: Operation): PathFixture | undefined {
  const names = op.pathParams.map((p) => p.name).sort();
  if (names.length === 0) return undefined;
  const entry = PATH_FIXTURES.find(
    (e) =>
      e.params.length === names.length &&
      [...e.params].sort().every((n, i) => n === names[i]) &&
      (!e.path || e.path.test(op.path)),
  );
  if (!entry)
    throw new MissingFixtureError(
      `No fixture for the path parameters {${names.join(", ")}} of ${op.id} (${op.method} ${op.path}): ` +
        "add an entry to PATH_FIXTURES in test/support/openapi.ts that creates the resource and returns its ids",
    );
  return entry;
}

export async function bodyValue(op: Operation, f: Fixtures, doc: OpenApiDocument): Promise<unknown> {
  if (!op.body) return undefined;
  const make = BODY_FIXTURES[op.id];
  if (make) return make(f);
  return op.body.schema ? minimalValue(op.body.schema, doc) : undefined;
}

/**
 * Defects these tests found in files whose owners were still working on them when the tests were written, so
 * they are reported rather than fixed here. Each entry turns the named check into an expected failure
 * (vitest `it.fails`): the suite stays green while the defect is tracked, and once the owner fixes it the check
 * fails with "expected to fail", which says: delete the entry. Keys: `<check>:<operationId>`.
 */
export const KNOWN_DEFECTS: Record<string, string> = {};
