import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/**
 * E-mail templates and document templates (docs/platform.md). Their text is Liquid over the same context as a
 * flow's action configs; it is parsed when saved (400 naming the field) and rendered when an action uses it.
 */

const Name = z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH);
const Text = z.string().max(LIMITS.MAX_TEMPLATE_LENGTH);

export const EMAIL_LANGUAGES = ["en", "de"] as const;
export type EmailLanguage = (typeof EMAIL_LANGUAGES)[number];

const EmailLanguageContent = z
  .strictObject({
    subject: Text.min(1).openapi({ example: "Your offer {{ entity.offer_number }}" }),
    body_html: Text.openapi({ example: "<p>Hello {{ entity.first_name }},</p>" }),
  })
  .openapi("EmailTemplateLanguage");

export const EmailTemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    en: EmailLanguageContent.optional(),
    de: EmailLanguageContent.optional(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("EmailTemplate");

export const CreateEmailTemplateRequest = z
  .strictObject({ name: Name, en: EmailLanguageContent.optional(), de: EmailLanguageContent.optional() })
  .refine((b) => b.en !== undefined || b.de !== undefined, { message: "Give at least one language (en, de)", path: ["en"] })
  .openapi("CreateEmailTemplateRequest");

export const UpdateEmailTemplateRequest = z
  .strictObject({
    name: Name.optional(),
    en: EmailLanguageContent.nullable().optional().openapi({ description: "`null` removes the language" }),
    de: EmailLanguageContent.nullable().optional().openapi({ description: "`null` removes the language" }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "Nothing to update" })
  .openapi("UpdateEmailTemplateRequest");

export const DOCUMENT_FORMATS = ["markdown", "html"] as const;

export const DocumentTemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    format: z.enum(DOCUMENT_FORMATS),
    content: z.string(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("DocumentTemplate");

const Format = z.enum(DOCUMENT_FORMATS).openapi({
  description:
    "`markdown` (headings, paragraphs, lists, **bold**, _italic_, rules, tables) or `html` (h1-h3, p, br, ul/ol/li, b/strong, i/em, hr, table/tr/th/td)",
});

export const CreateDocumentTemplateRequest = z
  .strictObject({ name: Name, format: Format.default("markdown"), content: Text.min(1) })
  .openapi("CreateDocumentTemplateRequest");

export const UpdateDocumentTemplateRequest = z
  .strictObject({ name: Name.optional(), format: Format.optional(), content: Text.min(1).optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "Nothing to update" })
  .openapi("UpdateDocumentTemplateRequest");
