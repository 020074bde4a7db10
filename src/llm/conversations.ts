import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import { extractWorkflow as extract, listConversationToolCalls, type ExtractInput } from "./extract";
import { newMessageBase, runTurn, type Emit, type TurnResult } from "./chat";
import { languageModel } from "./model";
import { resolveProvider } from "./providers";
import { chatTools } from "./tools";
import {
  type ConversationRow,
  type MessageRow,
  type NewMessage,
  appendMessages,
  claimConversation,
  countConversations,
  deleteConversation as deleteRow,
  getConversation,
  insertConversation,
  listConversations as listRows,
  listMessages as listMessageRows,
  recentMessages,
  releaseConversation,
  setConversationTitle,
  setTitleIfMissing,
} from "../store/conversations";
import { callerOf } from "../services/tools";

/**
 * Conversations with an LLM (seed 002 `chat`): threads of user, assistant and tool messages in D1, scoped to the
 * organization. Sending a message runs one turn (llm/chat.ts) while the conversation is held, so two answers never
 * interleave: a second message meanwhile is 409 CONVERSATION_BUSY.
 */

export type ConversationView = Omit<ConversationRow, "org_id">;
export type MessageView = Omit<MessageRow, "org_id">;

export const conversationView = ({ org_id: _org, ...rest }: ConversationRow): ConversationView => rest;
export const messageView = ({ org_id: _org, ...rest }: MessageRow): MessageView => rest;

export async function requireConversation(env: Env, orgId: string, id: string): Promise<ConversationRow> {
  const row = await getConversation(env.DB, orgId, id);
  if (!row) throw notFound("Conversation");
  return row;
}

export async function createConversation(env: Env, p: Principal, title: string | null | undefined): Promise<ConversationRow> {
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
    title: title ?? null,
    created_by: p.actor,
    provider: null,
    message_count: 0,
    created_at: now,
    updated_at: now,
  };
  await insertConversation(env.DB, row);
  return row;
}

export const listConversations = (env: Env, orgId: string, page: { limit: number; offset: number }) =>
  listRows(env.DB, orgId, page);

/** Metadata and the latest messages. */
export async function conversationDetail(env: Env, orgId: string, id: string) {
  const conv = await requireConversation(env, orgId, id);
  const messages = await recentMessages(env.DB, orgId, id, LIMITS.MAX_PAGE_SIZE);
  return { ...conversationView(conv), messages: messages.map(messageView) };
}

export async function renameConversation(env: Env, orgId: string, id: string, title: string): Promise<ConversationRow> {
  if (!(await setConversationTitle(env.DB, orgId, id, title, isoNow()))) throw notFound("Conversation");
  return requireConversation(env, orgId, id);
}

export async function deleteConversation(env: Env, orgId: string, id: string): Promise<void> {
  if (!(await deleteRow(env.DB, orgId, id))) throw notFound("Conversation");
}

export async function listMessages(env: Env, orgId: string, id: string, page: { limit: number; offset: number }) {
  const conv = await requireConversation(env, orgId, id);
  const rows = await listMessageRows(env.DB, orgId, id, page);
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

/**
 * Checks everything that can be refused before anything is stored (404, full conversation, unknown provider,
 * another turn running), then stores the user's message: the turn itself runs with `run`, streamed or not.
 */
export async function prepareTurn(
  env: Env,
  p: Principal,
  id: string,
  input: { content: string; provider?: string | null },
  requestId: string,
): Promise<PreparedTurn> {
  const conv = await requireConversation(env, p.orgId, id);
  if (conv.message_count >= LIMITS.MAX_MESSAGES_PER_CONVERSATION) {
    throw new AppError(
      409,
      "CONVERSATION_FULL",
      `A conversation may hold at most ${LIMITS.MAX_MESSAGES_PER_CONVERSATION} messages; start a new one`,
    );
  }
  const provider = await resolveProvider(env, p.orgId, input.provider);
  const model = languageModel(env, provider);
  const { tools } = await chatTools(env, p.orgId);
  const now = Date.now();
  if (!(await claimConversation(env.DB, p.orgId, id, now, now + LIMITS.CONVERSATION_TURN_LEASE_MS))) {
    throw new AppError(409, "CONVERSATION_BUSY", "The conversation is answering another message; retry when it is done");
  }
  const store = async (m: Omit<NewMessage, "id" | "org_id" | "conversation_id" | "created_at" | "provider" | "model">) => {
    const row: NewMessage = { ...m, ...newMessageBase(provider), org_id: p.orgId, conversation_id: id };
    const [stored] = await appendMessages(env.DB, p.orgId, id, [row]);
    return stored;
  };
  let user: MessageRow;
  try {
    user = await store({
      role: "user",
      content: input.content,
      status: "completed",
      tokens_used: null,
      tools_called: null,
      tool_call_id: null,
      tool_name: null,
      tool_arguments: null,
      tool_success: null,
      error_message: null,
    });
    if (conv.title === null) await setTitleIfMissing(env.DB, p.orgId, id, titleFrom(input.content));
  } catch (err) {
    await releaseConversation(env.DB, p.orgId, id, null);
    throw err;
  }
  const who = callerOf(p);
  return {
    userMessage: messageView(user),
    async run(emit) {
      try {
        const history = await recentMessages(env.DB, p.orgId, id, LIMITS.LLM_HISTORY_MESSAGES);
        // Stream clients see messages as the API shows them.
        const send: Emit | undefined =
          emit && ((event, data) => emit(event, event === "message" ? messageView(data as MessageRow) : data));
        const result = await runTurn({ env, who, provider, model, tools, history, requestId, record: store, emit: send });
        return { ...result, views: [user, ...result.messages].map(messageView) };
      } finally {
        await releaseConversation(env.DB, p.orgId, id, provider.provider);
      }
    },
  };
}

/** The conversation's tool calls (404 for an unknown or another organization's conversation). */
export async function conversationToolCalls(env: Env, orgId: string, id: string) {
  await requireConversation(env, orgId, id);
  return listConversationToolCalls(env, orgId, id);
}

export async function extractWorkflow(env: Env, p: Principal, id: string, input: ExtractInput) {
  await requireConversation(env, p.orgId, id);
  return extract(env, p, id, input);
}
