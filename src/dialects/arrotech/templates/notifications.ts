import { step, type WorkflowTemplate } from "./types";

/** Chat notifications and failure alerts: Slack, Discord, Microsoft Teams. */

export const NOTIFICATION_TEMPLATES: WorkflowTemplate[] = [
  {
    id: "failure-alert-discord",
    name: "Automation failures → Discord",
    description:
      "Set this workflow's webhook URL as `error_handling.notify_url` of other flows (with notify_on_failure): each failed " +
      "execution is posted to a Discord channel with the flow and the error.",
    category: "monitoring",
    difficulty: "intermediate",
    tags: ["discord", "alerts", "failures", "webhook"],
    trigger_type: "webhook",
    trigger_config: { path: "failure-alerts-discord", allow_unsigned: true },
    steps: [
      step("alert", "Post the failure", "discord_post_message", {
        content: "**{{ trigger.body.flow_name }}** failed: {{ trigger.body.error }} (execution {{ trigger.body.execution_id }})",
      }),
    ],
    variables: [],
  },
  {
    id: "failure-alert-teams",
    name: "Automation failures → Microsoft Teams",
    description:
      "The Teams twin of the Discord alert: point flows' `error_handling.notify_url` at this webhook and failures land in " +
      "a Teams channel.",
    category: "monitoring",
    difficulty: "intermediate",
    tags: ["teams", "alerts", "failures", "webhook"],
    trigger_type: "webhook",
    trigger_config: { path: "failure-alerts-teams", allow_unsigned: true },
    steps: [
      step("alert", "Post the failure", "teams_post_message", {
        title: "Automation failed: {{ trigger.body.flow_name }}",
        text: "{{ trigger.body.error }}\n\nExecution {{ trigger.body.execution_id }} finished {{ trigger.body.finished_at }}",
        theme_color: "#D83B01",
      }),
    ],
    variables: [],
  },
  {
    id: "webhook-to-slack",
    name: "Any webhook → Slack",
    description: "Forwards whatever a service POSTs to this workflow's webhook as a Slack message.",
    category: "notifications",
    difficulty: "beginner",
    tags: ["slack", "webhook"],
    trigger_type: "webhook",
    trigger_config: { path: "to-slack", allow_unsigned: true },
    steps: [
      step("forward", "Forward the call", "slack_post_message", {
        channel: "{{ variables.slack_channel }}",
        text: "{{ variables.prefix }} {{ trigger.body | json }}",
      }),
    ],
    variables: [
      { name: "slack_channel", type: "string", description: "Channel to post in", required: true, default: "#alerts" },
      { name: "prefix", type: "string", description: "Text before the payload", required: false, default: "Webhook:" },
    ],
  },
  {
    id: "broadcast-announcement",
    name: "Broadcast to Slack, Discord and Teams",
    description: "Run it with `input_data: {message}`: the message is posted to Slack, Discord and Teams at once.",
    category: "notifications",
    difficulty: "beginner",
    tags: ["slack", "discord", "teams", "manual"],
    trigger_type: "manual",
    trigger_config: {},
    steps: [
      step("slack", "Slack", "slack_post_message", { channel: "{{ variables.slack_channel }}", text: "{{ variables.message }}" }),
      step("discord", "Discord", "discord_post_message", { content: "{{ variables.message }}" }),
      step("teams", "Teams", "teams_post_message", { text: "{{ variables.message }}" }),
    ],
    variables: [
      { name: "slack_channel", type: "string", description: "Slack channel", required: true, default: "#general" },
      { name: "message", type: "string", description: "The announcement (given on each run)", required: false },
    ],
  },
];
