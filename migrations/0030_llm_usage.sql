-- Model tokens spent by AI steps (ai_generate, ai_agent), per organization, UTC day, provider and model: what
-- GET /v1/usage/llm reports and what the per-organization daily token budget of the plans is checked against.
-- One upsert per model call.
CREATE TABLE llm_usage (
  org_id        TEXT NOT NULL,
  day           TEXT NOT NULL, -- UTC date, YYYY-MM-DD
  provider      TEXT NOT NULL, -- openai | anthropic | ollama | workers-ai
  model         TEXT NOT NULL,
  calls         INTEGER NOT NULL DEFAULT 0,
  input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, day, provider, model)
);
