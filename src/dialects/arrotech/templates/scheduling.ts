import { step, type WorkflowTemplate } from "./types";

/** Schedules, calendars, SMS and e-mail: Google Calendar, Twilio, Resend, generic HTTP. */

export const SCHEDULING_TEMPLATES: WorkflowTemplate[] = [
  {
    id: "daily-webhook-digest",
    name: "Daily digest from an HTTP API → Slack",
    description: "Every morning, fetches a report from your HTTP API (a generic HTTP connection) and posts its answer to Slack.",
    category: "scheduling",
    difficulty: "intermediate",
    tags: ["schedule", "http", "slack", "digest"],
    trigger_type: "schedule",
    trigger_config: { cron: "0 8 * * *", timezone: "UTC" },
    steps: [
      step("fetch", "Fetch the report", "http_request", { method: "GET", path: "{{ variables.report_path }}" }),
      step("post", "Post the digest", "slack_post_message", {
        channel: "{{ variables.slack_channel }}",
        text: "Daily digest ({{ now | date: '%Y-%m-%d' }}): {{ actions.fetch.outputs.data.body | json }}",
      }),
    ],
    variables: [
      { name: "report_path", type: "string", description: "Path of the report on the API", required: true, default: "/report" },
      { name: "slack_channel", type: "string", description: "Channel for the digest", required: true, default: "#daily" },
    ],
  },
  {
    id: "weekly-team-reminder",
    name: "Weekly reminder → Slack",
    description: "Every Monday at 9:00 UTC, posts a reminder to a Slack channel.",
    category: "scheduling",
    difficulty: "beginner",
    tags: ["schedule", "slack", "reminder"],
    trigger_type: "schedule",
    trigger_config: { cron: "0 9 * * 1", timezone: "UTC" },
    steps: [
      step("remind", "Remind the team", "slack_post_message", {
        channel: "{{ variables.slack_channel }}",
        text: "{{ variables.text }}",
      }),
    ],
    variables: [
      { name: "slack_channel", type: "string", description: "Channel", required: true, default: "#team" },
      { name: "text", type: "string", description: "The reminder", required: true, default: "Weekly planning in 30 minutes" },
    ],
  },
  {
    id: "record-to-calendar-event",
    name: "Appointment record → Google Calendar event",
    description: "Each appointment record created becomes an event in a Google Calendar, with the customer invited.",
    category: "scheduling",
    difficulty: "intermediate",
    tags: ["google calendar", "records", "appointments"],
    trigger_type: "record.created",
    trigger_config: { module: "appointments" },
    steps: [
      step("event", "Create the event", "google_calendar_appointment", {
        summary: "{{ record.title }}",
        startTime: "{{ record.starts_at }}",
        endTime: "{{ record.ends_at }}",
        description: "{{ record.notes }}",
        attendees: ["{{ record.customer_email }}"],
      }),
    ],
    variables: [],
  },
  {
    id: "form-submission-sms",
    name: "Form submission → Twilio SMS",
    description:
      "When a form is submitted (POST /v1/automation/submissions with the form's source_id), texts the on-call phone " +
      "with who submitted it.",
    category: "marketing",
    difficulty: "beginner",
    tags: ["twilio", "sms", "forms"],
    trigger_type: "api_submission",
    trigger_config: { source_id: "{{ variables.form_id }}" },
    steps: [
      step("sms", "Text the on-call phone", "twilio_send_sms", {
        to: "{{ variables.notify_phone }}",
        body: "New submission from {{ trigger.payload.name }} ({{ trigger.payload.email }})",
      }),
    ],
    variables: [
      { name: "form_id", type: "string", description: "The form's source_id", required: true, default: "contact-form" },
      { name: "notify_phone", type: "string", description: "Phone to text (E.164, +15551234567)", required: true },
    ],
  },
  {
    id: "appointment-sms-confirmation",
    name: "Appointment → SMS confirmation",
    description: "Texts the customer a confirmation when an appointment record is created.",
    category: "marketing",
    difficulty: "beginner",
    tags: ["twilio", "sms", "appointments"],
    trigger_type: "record.created",
    trigger_config: { module: "appointments" },
    steps: [
      step("sms", "Confirm by SMS", "twilio_send_sms", {
        to: "{{ record.customer_phone }}",
        body: "Hi {{ record.customer_name }}, your appointment on {{ record.starts_at }} is confirmed.",
      }),
    ],
    variables: [],
  },
  {
    id: "resend-follow-up",
    name: "New lead → welcome e-mail, follow-up a day later",
    description: "Sends a welcome e-mail through Resend when a lead record is created, waits a day, and sends a follow-up.",
    category: "marketing",
    difficulty: "advanced",
    tags: ["resend", "email", "leads", "delay"],
    trigger_type: "record.created",
    trigger_config: { module: "leads" },
    steps: [
      step("welcome", "Welcome e-mail", "resend_send_email", {
        to: "{{ record.email }}",
        subject: "Welcome, {{ record.name }}",
        text: "Thanks for your interest in {{ variables.company }}. We'll be in touch.",
      }),
      { id: "wait", name: "Wait a day", tool: "delay", params: { duration: 1, unit: "days" } },
      step("follow_up", "Follow-up e-mail", "resend_send_email", {
        to: "{{ record.email }}",
        subject: "Any questions, {{ record.name }}?",
        text: "Reply to this e-mail and {{ variables.company }} will answer within a day.",
      }),
    ],
    variables: [{ name: "company", type: "string", description: "Your company's name", required: true }],
  },
];
