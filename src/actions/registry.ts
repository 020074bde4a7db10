import { aiAgentAction } from "./ai-agent";
import { aiGenerateAction } from "./ai-generate";
import { cancelFlowExecutionAction } from "./cancel-flow-execution";
import { customAction } from "./custom-action";
import { delayAction } from "./delay";
import { assignThreadAction } from "./assign-thread";
import { cartCheckoutAction } from "./cart-checkout";
import { createDocumentAction } from "./create-document";
import { epilotSendEmailAction } from "./epilot-send-email";
import { forwardEmailAction } from "./forward-email";
import { informErpAction } from "./inform-erp";
import { moveThreadAction } from "./move-thread";
import { replyEmailAction } from "./reply-email";
import { integrationAction } from "./integration";
import { sendEmailAction } from "./send-email";
import { sendNotificationAction } from "./send-notification";
import type { ActionHandler } from "./types";
import { mapEntityAction } from "./map-entity";
import { createRecordAction, updateRecordAction } from "./records";
import { triggerEventAction } from "./trigger-event";
import { triggerShareEntityAction } from "./trigger-share-entity";
import { triggerWorkflowAction } from "./trigger-workflow";
import { webhookAction } from "./webhook";

/** Every action handler; a new action type is a new module added here. */
const HANDLERS: ActionHandler[] = [
  webhookAction,
  delayAction,
  createRecordAction,
  updateRecordAction,
  mapEntityAction,
  triggerWorkflowAction,
  triggerEventAction,
  cancelFlowExecutionAction,
  customAction,
  integrationAction,
  sendEmailAction,
  sendNotificationAction,
  aiGenerateAction,
  aiAgentAction,
  informErpAction,
  epilotSendEmailAction,
  replyEmailAction,
  forwardEmailAction,
  moveThreadAction,
  assignThreadAction,
  createDocumentAction,
  triggerShareEntityAction,
  cartCheckoutAction,
];

const byType = new Map<string, ActionHandler>();
for (const h of HANDLERS) for (const t of h.types) byType.set(t, h);

export function actionHandler(type: string): ActionHandler | undefined {
  return byType.get(type);
}
