-- LLM conversations (seed 002, Arrotech Hub "chat"): a thread per conversation and its messages (user, assistant,
-- tool). Every row carries org_id and every query filters on it.

CREATE TABLE conversations (
  id            TEXT NOT NULL,
  org_id        TEXT NOT NULL,
  title         TEXT,                    -- null until the first message names it (when created without one)
  created_by    TEXT NOT NULL,           -- the principal (user:<sub>, api_key:<id>, superuser)
  provider      TEXT,                    -- the LLM provider of the last answer (platform or workers-ai)
  message_count INTEGER NOT NULL DEFAULT 0,
  busy_until    INTEGER,                 -- ms: a message is being answered until then (one turn at a time)
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
-- Listing: most recently updated first.
CREATE INDEX conversations_recent ON conversations (org_id, updated_at DESC, id DESC);

CREATE TABLE conversation_messages (
  org_id          TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,      -- order within the conversation, from 1
  id              TEXT NOT NULL,
  role            TEXT NOT NULL,         -- user | assistant | tool | system
  content         TEXT NOT NULL,         -- the text (a tool message: its result as JSON)
  status          TEXT NOT NULL,         -- completed | error | refused | incomplete
  provider        TEXT,
  model           TEXT,
  tokens_used     INTEGER,
  tools_called    TEXT,                  -- JSON [{id, name, arguments}] of an assistant message
  tool_call_id    TEXT,                  -- a tool message: the call it answers
  tool_name       TEXT,
  tool_arguments  TEXT,                  -- JSON, or the raw text when the model sent malformed arguments
  tool_success    INTEGER,               -- 1 | 0 (tool messages)
  error_message   TEXT,
  created_at      TEXT NOT NULL,
  PRIMARY KEY (org_id, conversation_id, seq)
);
CREATE UNIQUE INDEX conversation_messages_id ON conversation_messages (org_id, id);
