-- Plans (Arrotech's free and pro tiers): daily request quotas per organization. An organization without a plan
-- (NULL, the default: every org id that needs no registration) is the self-hosted operator's and is unlimited.
ALTER TABLE organizations ADD COLUMN plan TEXT; -- NULL | free | pro

-- Requests per organization per UTC day, counted only for organizations with a plan. One upsert per request;
-- a request is admitted while the count (refused attempts included) stays within the plan's quota.
CREATE TABLE org_daily_usage (
  org_id   TEXT NOT NULL,
  day      TEXT NOT NULL, -- UTC date, YYYY-MM-DD
  requests INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, day)
);
