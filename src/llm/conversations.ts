import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { hasScope, type Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import { extractWorkflow as extract, listConversationToolCalls, type ExtractInput } from "./extract";
import { blankMessage, newMessageBase, runTurn, toolMessage, type Emit, type TurnResult } from "./chat";
import { languageModel } from "./model";
import { resolveProvider, type ResolvedProvider } from "./providers";
import { chatTools, refusedToolRun, runModelToolCall } from "./tools";
import {
  type ConversationRow,
  type MessageRow,
  type NewMessage,
  appendMessages,
  claimConversation,
  countConversations,
  deleteConversation as deleteRow,
  findPendingToolCall,
  getConversation,
  hasPendingToolCalls,
  insertConversation,
  listConversations as listRows,
  listMessages as listMessageRows,
  recentMessages,
  releaseConversation,
  setConversationTitle,
  setPendingToolCalls,
  setTitleIfMissing,
  toolCallExists,
} from "../store/conversations";
import { providerToolNames } from "../services/tool-names";
import { CORE_TOOLS, auditToolCall, callerOf } from "../services/tools";

/**
 * Conversations with an LLM (seed 002 `chat`): threads of user, assistant and tool messages in D1, scoped to the
 * organization and owned by the principal that started them (others need the admin scope). Sending a message runs one
 * turn (llm/chat.ts) while the conversation is held, so two answers never interleave: a second message meanwhile is
 * 409 CONVERSATION_BUSY. A write tool the model calls waits for a person: approve or reject it (decideToolCall).
 */

export type ConversationView = Omit<ConversationRow, "org_id">;
export type MessageView = Omit<MessageRow, "org_id">;

export const conversationView = ({ org_id: _org, ...rest }: ConversationRow): ConversationView => rest;
export const messageView = ({ org_id: _org, ...rest }: MessageRow): MessageView => rest;

/** Its creator's, or any of the org's for the admin scope; 404 otherwise, as for another org's. */
export async function requireConversation(env: Env, p: Principal, id: string): Promise<ConversationRow> {
  const row = await getConversation(env.DB, p.orgId, id);
  if (!row || (row.created_by !== p.actor && !hasScope(p, "admin"))) throw notFound("Conversation");
  return row;
}

/** Every tool name of the catalog, provider tools whose platform has no connection included. */
const catalogNames = (): Set<string> => new Set([...CORE_TOOLS.map((t) => t.name), ...providerToolNames()]);

export async function createConversation(
  env: Env,
  p: Principal,
  input: { title?: string | null; auto_approve_tools?: string[] },
): Promise<ConversationRow> {
  const known = catalogNames();
  const auto = [...new Set(input.auto_approve_tools ?? [])];
  const unknown = auto.flatMap((name, i) => (known.has(name) ? [] : [{ name, i }]));
  if (unknown.length > 0) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "auto_approve_tools names tools the catalog does not have",
      unknown.map((u) => ({
        path: `auto_approve_tools.${u.i}`,
        location: "json",
        message: `No tool named "${u.name.slice(0, 100)}"`,
      })),
    );
  }
  if ((await countConversations(env.DB, p.orgId)) >= LIMITS.MAX_CONVERSATIONS_PER_ORG) {
    throw new AppError(
      409,
      "LIMIT_REACHED",
      `An organization may have at most ${LIMITS.MAX_CONVERSATIONS_PER_ORG} conversations`,
    );
  }
  const now = isoNow();
  const row: ConversationRow = {
    id: newId(),
    org_id: p.orgId,
    title: input.title ?? null,
    created_by: p.actor,
    provider: null,
    message_count: 0,
    auto_approve_tools: auto,
    created_at: now,
    updated_at: now,
  };
  await insertConversation(env.DB, row);
  return row;
}

/** The principal's own conversations; all of the org's for the admin scope. */
export const listConversations = (env: Env, p: Principal, page: { limit: number; offset: number }) =>
  listRows(env.DB, p.orgId, page, hasScope(p, "admin") ? undefined : p.actor);

/** Metadata and the latest messages. */
export async function conversationDetail(env: Env, p: Principal, id: string) {
  const conv = await requireConversation(env, p, id);
  const messages = await recentMessages(env.DB, p.orgId, id, LIMITS.MAX_PAGE_SIZE);
  return { ...conversationView(conv), messages: messages.map(messageView) };
}

export async function renameConversation(env: Env, p: Principal, id: string, title: string): Promise<ConversationRow> {
  await requireConversation(env, p, id);
  if (!(await setConversationTitle(env.DB, p.orgId, id, title, isoNow()))) throw notFound("Conversation");
  return requireConversation(env, p, id);
}

export async function deleteConversation(env: Env, p: Principal, id: string): Promise<void> {
  await requireConversation(env, p, id);
  if (!(await deleteRow(env.DB, p.orgId, id))) throw notFound("Conversation");
}

export async function listMessages(env: Env, p: Principal, id: string, page: { limit: number; offset: number }) {
  const conv = await requireConversation(env, p, id);
  const rows = await listMessageRows(env.DB, p.orgId, id, page);
  return { total: conv.message_count, results: rows.map(messageView) };
}

/** A title from the first message: its first line, cut at a word near 60 characters. */
export function titleFrom(content: string): string {
  const line = content.trim().split(/\r?\n/)[0].replace(/\s+/g, " ").trim() || "New conversation";
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).trim()}…`;
}

export interface PreparedTurn {
  userMessage: MessageView;
  /** Runs the turn and releases the conversation, whatever happens. */
  run(emit?: Emit): Promise<TurnResult & { views: MessageView[] }>;
}

type StoredMessage = Omit<NewMessage, "id" | "org_id" | "conversation_id" | "created_at" | "provider" | "model">;

/** Appends one message of `provider`'s turn to the conversation and returns it as stored. */
const messageStore = (env: Env, orgId: string, id: string, provider: ResolvedProvider) => async (m: StoredMessage) => {
  const row: NewMessage = { ...m, ...newMessageBase(provider), org_id: orgId, conversation_id: id };
  const [stored] = await appendMessages(env.DB, orgId, id, [row]);
  return stored;
};

/** What a turn needs besides the history: the model, the tools, and which calls wait for a person. */
async function turnSetup(env: Env, p: Principal, conv: ConversationRow, provider: ResolvedProvider) {
  const model = languageModel(env, provider);
  const { tools, catalog } = await chatTools(env, p.orgId);
  const effects = new Map(catalog.map((t) => [t.name, t.effect]));
  const auto = new Set(conv.auto_approve_tools);
  // Fail closed: a tool whose effect is not known to be `read` waits like a write.
  const needsApproval = (name: string) => effects.get(name) !== "read" && !auto.has(name);
  return { model, tools, needsApproval, who: callerOf(p) };
}

/**
 * Checks everything that can be refused before anything is stored (404, full conversation, tool calls waiting for a
 * decision, unknown provider, another turn running), then stores the user's message: the turn itself runs with `run`,
 * streamed or not.
 */
export async function prepareTurn(
  env: Env,
  p: Principal,
  id: string,
  input: { content: string; provider?: string | null },
  requestId: string,
): Promise<PreparedTurn> {
  const conv = await requireConversation(env, p, id);
  if (conv.message_count >= LIMITS.MAX_MESSAGES_PER_CONVERSATION) {
    throw new AppError(
      409,
      "CONVERSATION_FULL",
      `A conversation may hold at most ${LIMITS.MAX_MESSAGES_PER_CONVERSATION} messages; start a new one`,
    );
  }
  if (await hasPendingToolCalls(env.DB, p.orgId, id)) {
    throw new AppError(
      409,
      "TOOL_CALLS_PENDING",
      "Tool calls of this conversation wait for a decision: approve or reject them (POST …/tool-calls/{id}/approve|reject) first",
    );
  }
  const provider = await resolveProvider(env, p.orgId, input.provider);
  const setup = await turnSetup(env, p, conv, provider);
  const now = Date.now();
  if (!(await claimConversation(env.DB, p.orgId, id, now, now + LIMITS.CONVERSATION_TURN_LEASE_MS))) {
    throw new AppError(409, "CONVERSATION_BUSY", "The conversation is answering another message; retry when it is done");
  }
  const store = messageStore(env, p.orgId, id, provider);
  let user: MessageRow;
  try {
    user = await store({ ...blankMessage, role: "user", content: input.content, status: "completed" });
    if (conv.title === null) await setTitleIfMissing(env.DB, p.orgId, id, titleFrom(input.content));
  } catch (err) {
    await releaseConversation(env.DB, p.orgId, id, null);
    throw err;
  }
  return {
    userMessage: messageView(user),
    async run(emit) {
      try {
        const history = await recentMessages(env.DB, p.orgId, id, LIMITS.LLM_HISTORY_MESSAGES);
        // Stream clients see messages as the API shows them.
        const send: Emit | undefined =
          emit && ((event, data) => emit(event, event === "message" ? messageView(data as MessageRow) : data));
        const result = await runTurn({ env, provider, ...setup, history, requestId, record: store, emit: send });
        return { ...result, views: [user, ...result.messages].map(messageView) };
      } finally {
        await releaseConversation(env.DB, p.orgId, id, provider.provider);
      }
    },
  };
}

/** The provider a paused turn goes on with: the model it was answering with, else the organization's default. */
async function continuingProvider(env: Env, orgId: string, message: MessageRow): Promise<ResolvedProvider> {
  if (message.model) {
    try {
      return await resolveProvider(env, orgId, message.model);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "UNKNOWN_PROVIDER") throw err;
    }
  }
  return resolveProvider(env, orgId, null);
}

/**
 * A person's decision on a tool call the model proposed: `approve` runs it (with the decider's scopes, audited),
 * `reject` answers the model that it was refused. Once every pending call of the message is decided the turn goes on:
 * the model sees the results and answers (and may propose more). 404 for a call that was never proposed here, 409 for
 * one already decided or while the conversation answers something else.
 */
export async function decideToolCall(
  env: Env,
  p: Principal,
  id: string,
  toolCallId: string,
  decision: "approve" | "reject",
  requestId: string,
): Promise<TurnResult & { views: MessageView[] }> {
  const conv = await requireConversation(env, p, id);
  const waiting = await findPendingToolCall(env.DB, p.orgId, id, toolCallId);
  if (!waiting) {
    if (await toolCallExists(env.DB, p.orgId, id, toolCallId)) {
      throw new AppError(409, "TOOL_CALL_DECIDED", "This tool call was already approved or rejected");
    }
    throw notFound("Pending tool call");
  }
  const provider = await continuingProvider(env, p.orgId, waiting);
  const setup = await turnSetup(env, p, conv, provider);
  const now = Date.now();
  if (!(await claimConversation(env.DB, p.orgId, id, now, now + LIMITS.CONVERSATION_TURN_LEASE_MS))) {
    throw new AppError(409, "CONVERSATION_BUSY", "The conversation is answering another message; retry when it is done");
  }
  try {
    // Read again under the hold: a concurrent decision may have taken it.
    const current = await findPendingToolCall(env.DB, p.orgId, id, toolCallId);
    const call = current?.pending_tool_calls?.find((c) => c.id === toolCallId);
    if (!current || !call) throw new AppError(409, "TOOL_CALL_DECIDED", "This tool call was already approved or rejected");
    const store = messageStore(env, p.orgId, id, provider);
    let run;
    if (decision === "approve") {
      run = await runModelToolCall(
        env,
        setup.who,
        { toolCallId: call.id, toolName: call.name, input: call.arguments },
        requestId,
      );
    } else {
      run = refusedToolRun(p.actor);
      await auditToolCall(env, setup.who, {
        via: "conversations.chat",
        tool: call.name,
        request_id: requestId,
        started_at: isoNow(),
        duration_ms: 0,
        outcome: "error",
        error_message: `Refused by ${p.actor}`,
      });
    }
    const decided = await store({ ...toolMessage(call, run), ...(decision === "reject" ? { status: "refused" as const } : {}) });
    const remaining = current.pending_tool_calls!.filter((c) => c.id !== toolCallId);
    await setPendingToolCalls(env.DB, p.orgId, id, current.id, remaining.length > 0 ? remaining : null);
    if (remaining.length > 0) {
      const final = { ...current, pending_tool_calls: remaining };
      return { messages: [decided], final, failure: null, views: [decided].map(messageView) };
    }
    // Every call of the round is decided: the model sees the results and goes on.
    const history = await recentMessages(env.DB, p.orgId, id, LIMITS.LLM_HISTORY_MESSAGES);
    const result = await runTurn({ env, provider, ...setup, history, requestId, record: store });
    const messages = [decided, ...result.messages];
    return { ...result, messages, views: messages.map(messageView) };
  } finally {
    await releaseConversation(env.DB, p.orgId, id, provider.provider);
  }
}

/** The conversation's tool calls (404 for an unknown, another user's or another organization's conversation). */
export async function conversationToolCalls(env: Env, p: Principal, id: string) {
  await requireConversation(env, p, id);
  return listConversationToolCalls(env, p.orgId, id);
}

export async function extractWorkflow(env: Env, p: Principal, id: string, input: ExtractInput) {
  await requireConversation(env, p, id);
  return extract(env, p, id, input);
}
