import type { AssistantContent, ModelMessage, ToolContent } from "ai";
import { LIMITS } from "../lib/limits";
import type { MessageRow } from "../store/conversations";
import { asToolData } from "./tools";

/**
 * Stored messages as the model's context. Providers refuse a tool result without its call and (Anthropic) a call
 * without its result, so a window that cuts a pair, or a turn that stopped before running its calls, keeps only
 * the complete pairs.
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const capped = (text: string): string =>
  text.length > LIMITS.LLM_MAX_TOOL_RESULT_CHARS ? `${text.slice(0, LIMITS.LLM_MAX_TOOL_RESULT_CHARS)}…[truncated]` : text;

export function toModelMessages(rows: MessageRow[]): ModelMessage[] {
  const answered = new Set(rows.filter((r) => r.role === "tool" && r.tool_call_id).map((r) => r.tool_call_id as string));
  const called = new Set<string>();
  const out: ModelMessage[] = [];
  for (const row of rows) {
    if (row.role === "user") {
      out.push({ role: "user", content: row.content });
    } else if (row.role === "assistant") {
      const content: Exclude<AssistantContent, string> = [];
      if (row.content) content.push({ type: "text", text: row.content });
      for (const call of row.tools_called ?? []) {
        if (!answered.has(call.id)) continue;
        called.add(call.id);
        content.push({
          type: "tool-call",
          toolCallId: call.id,
          toolName: call.name,
          input: isObject(call.arguments) ? call.arguments : {},
        });
      }
      if (content.length > 0) out.push({ role: "assistant", content });
    } else if (row.role === "tool" && row.tool_call_id && called.has(row.tool_call_id)) {
      const part: ToolContent[number] = {
        type: "tool-result",
        toolCallId: row.tool_call_id,
        toolName: row.tool_name ?? "unknown",
        output: row.tool_success
          ? { type: "text", value: asToolData(capped(row.content)) }
          : { type: "error-text", value: asToolData(capped(row.content)) },
      };
      // Results of one round travel in one tool message.
      const last = out[out.length - 1];
      if (last?.role === "tool") last.content.push(part);
      else out.push({ role: "tool", content: [part] });
    }
  }
  return out;
}
