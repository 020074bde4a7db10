-- The model proposes, a person decides (docs/llm.md): a write tool the model calls in a conversation waits for an
-- approval. `pending_tool_calls` (JSON [{id, name, arguments}]) of an assistant message lists the calls still waiting;
-- NULL when none. `auto_approve_tools` (JSON array of tool names) of a conversation runs those without asking.
ALTER TABLE conversations ADD COLUMN auto_approve_tools TEXT;
ALTER TABLE conversation_messages ADD COLUMN pending_tool_calls TEXT;
-- The conversation's messages waiting for decisions (at most the latest assistant message of a turn).
CREATE INDEX conversation_messages_pending ON conversation_messages (org_id, conversation_id) WHERE pending_tool_calls IS NOT NULL;
