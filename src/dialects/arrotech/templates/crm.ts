import { step, type WorkflowTemplate } from "./types";

/** Sales & CRM templates: HubSpot, record stages and follow-up tasks. */

export const CRM_TEMPLATES: WorkflowTemplate[] = [
  {
    id: "hubspot-new-contact-to-slack",
    name: "New HubSpot contact → Slack",
    description:
      "HubSpot calls this workflow's webhook when a contact is created (a HubSpot workflow's 'Send a webhook' action); " +
      "the contact is announced in a Slack channel.",
    category: "sales",
    difficulty: "beginner",
    tags: ["hubspot", "slack", "leads", "webhook"],
    trigger_type: "webhook",
    trigger_config: { path: "hubspot-new-contact", allow_unsigned: true },
    steps: [
      step("announce", "Announce the contact", "slack_post_message", {
        channel: "{{ variables.slack_channel }}",
        text: ":wave: New HubSpot contact: {{ trigger.body.firstname }} {{ trigger.body.lastname }} <{{ trigger.body.email }}>",
      }),
    ],
    variables: [{ name: "slack_channel", type: "string", description: "Channel to post in", required: true, default: "#sales" }],
  },
  {
    id: "contact-record-to-hubspot",
    name: "Sync new contacts to HubSpot",
    description: "Every contact record created in the engine is created in HubSpot with its name, e-mail and phone.",
    category: "sales",
    difficulty: "beginner",
    tags: ["hubspot", "records", "sync"],
    trigger_type: "record.created",
    trigger_config: { module: "{{ variables.module }}" },
    steps: [
      step("hubspot", "Create the HubSpot contact", "hubspot_create_contact", {
        email: "{{ record.email }}",
        firstname: "{{ record.first_name }}",
        lastname: "{{ record.last_name }}",
        phone: "{{ record.phone }}",
      }),
    ],
    variables: [{ name: "module", type: "string", description: "The records' module", required: true, default: "contacts" }],
  },
  {
    id: "deal-stage-change-task",
    name: "Deal stage change → follow-up task",
    description: "When a deal's stage changes, a task record is created for its owner with the new stage.",
    category: "sales",
    difficulty: "intermediate",
    tags: ["records", "deals", "tasks"],
    trigger_type: "field.changed",
    trigger_config: { module: "deals", field: "stage" },
    steps: [
      {
        id: "task",
        name: "Create the task",
        tool: "create_record",
        params: {
          module: "tasks",
          data: {
            title: "Follow up: {{ record.name }} moved to {{ record.stage }}",
            deal_id: "{{ record._id }}",
            assignee: "{{ record.owner }}",
            due_in_days: "{{ variables.due_in_days }}",
          },
        },
      },
    ],
    variables: [{ name: "due_in_days", type: "number", description: "Days until the task is due", required: false, default: 2 }],
  },
  {
    id: "won-deal-to-hubspot-and-slack",
    name: "Won deal → HubSpot lifecycle + Slack",
    description:
      "When a deal record is updated, the contact's HubSpot lifecycle stage is set to customer and the win is posted to Slack.",
    category: "sales",
    difficulty: "advanced",
    tags: ["hubspot", "slack", "deals"],
    trigger_type: "record.updated",
    trigger_config: { module: "deals" },
    steps: [
      step("lifecycle", "Mark the contact a customer", "hubspot_update_contact", {
        contact_id: "{{ record.contact_email }}",
        id_property: "email",
        properties: { lifecyclestage: "customer" },
      }),
      step("celebrate", "Post the win", "slack_post_message", {
        channel: "{{ variables.slack_channel }}",
        text: ":tada: {{ record.name }} updated ({{ record.stage }}) for {{ record.amount }}",
      }),
    ],
    variables: [{ name: "slack_channel", type: "string", description: "Channel for wins", required: true, default: "#wins" }],
  },
];
