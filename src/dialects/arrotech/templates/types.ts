import type { WorkflowStep } from "../workflows-translate";

/**
 * A workflow template: a ready workflow in the Arrotech shape (its flow document is derived with
 * workflows-translate.ts, so a template is always expressible as a workflow) plus its setup variables.
 */

export const TEMPLATE_CATEGORIES = {
  sales: { name: "Sales & CRM", description: "Contacts, deals and follow-ups" },
  notifications: { name: "Notifications", description: "Tell a team where it already chats" },
  monitoring: { name: "Monitoring", description: "Alerts when automations or systems fail" },
  scheduling: { name: "Scheduling", description: "Digests, reminders and calendar events on a clock" },
  marketing: { name: "Marketing", description: "E-mail and SMS to leads and customers" },
} as const;
export type TemplateCategory = keyof typeof TEMPLATE_CATEGORIES;

export const TEMPLATE_DIFFICULTIES = ["beginner", "intermediate", "advanced"] as const;
export type TemplateDifficulty = (typeof TEMPLATE_DIFFICULTIES)[number];

/**
 * A setup variable. Where the template says `{{ variables.<name> }}`, using it puts the value in (the one given, else
 * the default); a variable left without a value stays a run variable of the workflow, filled by execute's input_data.
 */
export interface TemplateVariable {
  name: string;
  type: "string" | "number" | "boolean";
  description: string;
  required: boolean;
  default?: string | number | boolean;
}

export interface WorkflowTemplate {
  id: string;
  name: string;
  description: string;
  category: TemplateCategory;
  difficulty: TemplateDifficulty;
  tags: string[];
  trigger_type: string;
  trigger_config: Record<string, unknown>;
  steps: WorkflowStep[];
  variables: TemplateVariable[];
}

/** A provider step of `tool` (`<platform>_<action>`); its connection is bound when the template is used. */
export const step = (id: string, name: string, tool: string, params: Record<string, unknown>): WorkflowStep => ({
  id,
  name,
  tool,
  params,
});
