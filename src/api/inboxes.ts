import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { CreateInboxRequest, InboxSchema, UpdateInboxRequest } from "../schemas/inboxes";
import { RecordSearchResultSchema } from "../schemas/records";
import { THREAD_SCHEMA } from "../services/email-threads";
import { inboxUseCases, requireInbox } from "../services/inboxes";
import { toSnapshot } from "../services/records";
import { filterToSql } from "../store/record-sql";
import { searchRecords } from "../store/records";
import { crudRouter, listSchema } from "./platform-crud";
import { Paging, idParams } from "./platform-http";
import { errorResponses, jsonResponse, scopedRoute } from "./router";

/**
 * `/v1/inboxes` (docs/platform.md): shared inboxes, what move-thread's `target_inbox_id` names, and the threads
 * in each (records of schema `email_thread`, also readable under /v1/entities/email_thread).
 */

const threadsRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/{inbox_id}/threads",
  operationId: "listInboxThreads",
  tags: ["Inboxes"],
  summary: "The e-mail threads in an inbox, newest first",
  request: { params: idParams("inbox_id"), query: Paging },
  responses: { 200: jsonResponse(RecordSearchResultSchema, "Threads"), ...errorResponses(400, 401, 403, 404) },
});

export const inboxesRouter = crudRouter({
  noun: "inbox",
  nouns: "inboxes",
  op: "Inbox",
  ops: "Inboxes",
  tag: "Inboxes",
  idName: "inbox_id",
  view: InboxSchema,
  list: listSchema(InboxSchema, "InboxList"),
  create: CreateInboxRequest,
  update: UpdateInboxRequest,
  useCases: inboxUseCases,
}).openapi(threadsRoute, async (c) => {
  const orgId = c.get("principal").orgId;
  const inbox = await requireInbox(c.env, orgId, c.req.valid("param").inbox_id);
  const q: z.output<typeof Paging> = c.req.valid("query");
  const page = await searchRecords(
    c.env.DB,
    orgId,
    THREAD_SCHEMA,
    filterToSql([{ term: { inbox_id: inbox.id } }]),
    q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
    q.from ?? 0,
  );
  return c.json({ total: page.total, results: page.results.map(toSnapshot) }, 200);
});
