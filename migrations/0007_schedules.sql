-- Cron schedules. The per-minute reconciliation lists enabled flows with schedule triggers across all
-- organizations, a page at a time in flow_id order; this index makes that a range scan.
CREATE INDEX flow_triggers_schedule ON flow_triggers (trigger_type, enabled, flow_id);
