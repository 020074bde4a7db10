import { CRM_TEMPLATES } from "./crm";
import { NOTIFICATION_TEMPLATES } from "./notifications";
import { SCHEDULING_TEMPLATES } from "./scheduling";
import type { WorkflowTemplate } from "./types";

export * from "./types";

/** The workflow template catalog (static: the same for every organization). */
export const TEMPLATES: readonly WorkflowTemplate[] = [...CRM_TEMPLATES, ...NOTIFICATION_TEMPLATES, ...SCHEDULING_TEMPLATES];

const byId = new Map(TEMPLATES.map((t) => [t.id, t]));
export const findTemplate = (id: string): WorkflowTemplate | undefined => byId.get(id);
