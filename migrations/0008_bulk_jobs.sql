-- Bulk jobs: one flow triggered for many records (docs/bulk-jobs.md). The job row holds the selection,
-- the loading cursor and counters; each selected record is a row of bulk_job_items (never one JSON column).
CREATE TABLE bulk_jobs (
  id                    TEXT PRIMARY KEY,
  org_id                TEXT NOT NULL,
  flow_id               TEXT NOT NULL,
  status                TEXT NOT NULL,            -- approval querying_entities entities_loaded executing monitoring send_report finished failed cancelled
  created_by            TEXT NOT NULL,
  task_token_hash       TEXT NOT NULL,            -- SHA-256 of the task token; the token itself is only returned at creation
  trigger_context       TEXT,                     -- JSON object of strings
  query_type            TEXT NOT NULL,            -- refs | query | filter
  query_data            TEXT NOT NULL,            -- JSON: the refs (at most MAX_BULK_ENTITY_REFS), the query string or the filter
  page_size             INTEGER NOT NULL,         -- records per execution page (BULK_PAGE_SIZE when the job was created)
  load_page_size        INTEGER NOT NULL,         -- records per loading page
  pages_processed       INTEGER NOT NULL DEFAULT 0, -- loading pages done
  total_processed       INTEGER NOT NULL DEFAULT 0, -- records loaded so far (= the next item seq)
  search_after          TEXT,                     -- loading cursor: the last record id loaded (query/filter)
  has_more              INTEGER NOT NULL DEFAULT 1,
  items_total           INTEGER NOT NULL DEFAULT 0, -- set when loading ends
  items_dispatched      INTEGER NOT NULL DEFAULT 0, -- items past `pending` (started, or failed/cancelled before a start)
  items_finished        INTEGER NOT NULL DEFAULT 0, -- items in a final status
  report_file_entity_id TEXT,
  error                 TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL,
  approved_at           TEXT,
  finished_at           TEXT
);
CREATE INDEX bulk_jobs_org_created ON bulk_jobs (org_id, created_at);

CREATE TABLE bulk_job_items (
  job_id           TEXT NOT NULL,
  org_id           TEXT NOT NULL,
  entity_id        TEXT NOT NULL,
  entity_schema    TEXT,
  seq              INTEGER NOT NULL,              -- position in the job: execution pages and summary paging
  execution_id     TEXT NOT NULL,                 -- derived from (org, flow, job, entity) before the execution starts
  execution_status TEXT NOT NULL,                 -- ExecutionStatus; `pending` until the execution was started
  error            TEXT,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (job_id, entity_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX bulk_job_items_seq ON bulk_job_items (job_id, seq);
