import type { ScheduleConfig as AgentScheduleConfig } from "../../engine/schedule";

/**
 * The agent template catalog: a schedule and an agent_config ready for a kind of workflow. Creating an agent
 * from one binds it to a workflow of the caller (POST /v1/agent-templates/{template_id}/agents).
 */

export interface AgentTemplate {
  id: string;
  name: string;
  description: string;
  category: string;
  workflow_kind: string;
  default_schedule_config: AgentScheduleConfig;
  default_agent_config: Record<string, unknown>;
}

export const AGENT_TEMPLATES: readonly AgentTemplate[] = [
  {
    id: "daily-digest",
    name: "Daily digest agent",
    description: "Every morning at 08:00 UTC, runs a workflow that gathers the last day's items and posts one summary.",
    category: "reporting",
    workflow_kind: "Collects recent items (records, webhook events, CRM changes) and posts a summary to Slack or e-mail",
    // A digest missed while paused is still worth sending once, not once per missed day.
    default_schedule_config: { cron: "0 8 * * *", timezone: "UTC", catch_up: "one" },
    default_agent_config: {
      instructions: "Summarize everything that happened in the last 24 hours in a short digest",
      period_hours: 24,
    },
  },
  {
    id: "hourly-health-check",
    name: "Hourly health check",
    description: "Every hour, runs a workflow that checks a service and alerts when it is unhealthy.",
    category: "monitoring",
    workflow_kind: "Calls a health endpoint (call_webhook) and notifies a channel when the answer is not healthy",
    // A health check is only meaningful now: checks missed while paused are not replayed.
    default_schedule_config: { interval: 3600, catch_up: "none" },
    default_agent_config: { instructions: "Alert when the service does not answer 2xx", alert_channel: "#ops" },
  },
  {
    id: "weekly-report",
    name: "Weekly report",
    description: "Every Monday at 09:00 (Europe/Berlin), runs a workflow that builds and sends the weekly report.",
    category: "reporting",
    workflow_kind: "Aggregates the week's figures and sends them as an e-mail or a message",
    default_schedule_config: { cron: "0 9 * * 1", timezone: "Europe/Berlin", catch_up: "one" },
    default_agent_config: { instructions: "Report the figures of the past 7 days", period_days: 7 },
  },
  {
    id: "record-sync",
    name: "Record sync every 15 minutes",
    description: "Every 15 minutes, runs a workflow that copies new or changed records between two systems.",
    category: "data",
    workflow_kind: "Reads changes from one system (a CRM, a spreadsheet) and creates or updates them in another",
    default_schedule_config: { interval: 900, catch_up: "none" },
    default_agent_config: { instructions: "Sync records changed since the last run", lookback_minutes: 15 },
  },
  {
    id: "month-start-invoices",
    name: "Monthly invoice run",
    description: "On the first day of each month at 06:00 UTC, runs a workflow that issues or reminds of invoices.",
    category: "finance",
    workflow_kind: "Creates invoices or sends payment reminders for the month that ended",
    // Every missed month matters: each one is run on resume (bounded).
    default_schedule_config: { cron: "0 6 1 * *", timezone: "UTC", catch_up: "all" },
    default_agent_config: { instructions: "Invoice the previous month's billable items" },
  },
];

export const agentTemplate = (id: string): AgentTemplate | undefined => AGENT_TEMPLATES.find((t) => t.id === id);
