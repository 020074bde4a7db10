import { CreateEmailTemplateRequest, EmailTemplateSchema, UpdateEmailTemplateRequest } from "../schemas/templates";
import { emailTemplateUseCases } from "../services/email-templates";
import { crudRouter, listSchema } from "./platform-crud";

/** `/v1/email-templates` (docs/platform.md): what `email_template_id` of send-email and reply-email names. */
export const emailTemplatesRouter = crudRouter({
  noun: "e-mail template",
  op: "EmailTemplate",
  tag: "E-mail templates",
  idName: "email_template_id",
  view: EmailTemplateSchema,
  list: listSchema(EmailTemplateSchema, "EmailTemplateList"),
  create: CreateEmailTemplateRequest,
  update: UpdateEmailTemplateRequest,
  useCases: emailTemplateUseCases,
  notes: "Subjects and bodies are Liquid templates, parsed when saved (400 naming the field)",
});
