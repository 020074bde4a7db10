import type { Env } from "../env";
import { renderValue, templateIssueMessage, validateTemplates, type TemplateContext } from "../engine/templates";
import { AppError, type ErrorDetail } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import { EMAIL_LANGUAGES, type EmailLanguage } from "../schemas/templates";
import { EMAIL_TEMPLATES, type EmailTemplateRow } from "../store/platform-resources";
import { changeResource, createResource, pageOf, removeResource, requireResource } from "./platform-resources";

/**
 * E-mail templates: a name and, per language (`en`, `de`), a subject and an HTML body, Liquid over a flow's
 * context. Parsed on save; rendered by send-email and reply-email (`email_template_id`, `language_code`).
 */

const NOUN = "E-mail template";

type LanguageContent = { subject: string; body_html: string };

export interface EmailTemplateView {
  id: string;
  name: string;
  en?: LanguageContent;
  de?: LanguageContent;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export const toEmailTemplateView = (r: EmailTemplateRow): EmailTemplateView => ({
  id: r.id,
  name: r.name,
  ...r.languages,
  created_by: r.created_by,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** 400 naming every language field whose template does not parse. */
export function checkTemplateSyntax(value: Record<string, unknown>): void {
  const problems: ErrorDetail[] = validateTemplates(value).map((issue) => ({
    path: issue.path,
    location: "json",
    message: templateIssueMessage(issue),
    code: "invalid_template",
  }));
  if (problems.length > 0) throw new AppError(400, "VALIDATION_ERROR", "Invalid request body", problems);
}

const languagesOf = (input: Partial<Record<EmailLanguage, LanguageContent | null>>, base: EmailTemplateRow["languages"]) => {
  const out = { ...base };
  for (const lang of EMAIL_LANGUAGES) {
    const v = input[lang];
    if (v === null) delete out[lang];
    else if (v !== undefined) out[lang] = v;
  }
  return out;
};

export const emailTemplateUseCases = {
  list: async (env: Env, orgId: string, limit: number, offset: number) => {
    const page = await pageOf(env, EMAIL_TEMPLATES, orgId, limit, offset);
    return { total: page.total, results: page.results.map(toEmailTemplateView) };
  },
  get: async (env: Env, orgId: string, id: string) =>
    toEmailTemplateView(await requireResource(env, EMAIL_TEMPLATES, orgId, id, NOUN)),
  async create(env: Env, p: Principal, input: { name: string; en?: LanguageContent; de?: LanguageContent }) {
    const languages = languagesOf(input, {});
    checkTemplateSyntax(languages);
    const at = isoNow();
    const row: EmailTemplateRow = {
      id: newId(),
      org_id: p.orgId,
      name: input.name,
      languages,
      created_by: p.actor,
      created_at: at,
      updated_at: at,
    };
    return toEmailTemplateView(await createResource(env, EMAIL_TEMPLATES, row, NOUN));
  },
  async update(
    env: Env,
    p: Principal,
    id: string,
    input: { name?: string; en?: LanguageContent | null; de?: LanguageContent | null },
  ) {
    const stored = await requireResource(env, EMAIL_TEMPLATES, p.orgId, id, NOUN);
    const languages = languagesOf(input, stored.languages);
    if (Object.keys(languages).length === 0) {
      throw new AppError(400, "VALIDATION_ERROR", "A template keeps at least one language", [
        { path: "en", location: "json", message: "Cannot remove the last language" },
      ]);
    }
    checkTemplateSyntax(languages);
    const patch = { languages, updated_at: isoNow(), ...(input.name !== undefined ? { name: input.name } : {}) };
    return toEmailTemplateView(await changeResource(env, EMAIL_TEMPLATES, p.orgId, id, patch, NOUN));
  },
  remove: (env: Env, orgId: string, id: string) => removeResource(env, EMAIL_TEMPLATES, orgId, id, NOUN),
};

export interface RenderedEmail {
  subject: string;
  html: string;
  language: EmailLanguage;
}

/**
 * The template in `language` (or, when it has none, its other language: `en` first), rendered over `context`.
 * Throws TemplateError (engine/templates) when a template fails to render.
 */
export function renderEmailTemplate(
  row: EmailTemplateRow,
  language: EmailLanguage | undefined,
  context: TemplateContext,
): RenderedEmail {
  const order: EmailLanguage[] = language ? [language, ...EMAIL_LANGUAGES.filter((l) => l !== language)] : [...EMAIL_LANGUAGES];
  const chosen = order.find((l) => row.languages[l] !== undefined);
  if (!chosen) throw new AppError(400, "BAD_CONFIG", `E-mail template ${row.id} has no language`);
  const content = row.languages[chosen]!;
  // The body is HTML: values are escaped in it (`| raw` inserts markup on purpose); the subject is plain text.
  const subject = renderValue(content.subject, context).value;
  const html = renderValue(content.body_html, context, { mode: "html" }).value;
  return { subject: String(subject ?? ""), html: String(html ?? ""), language: chosen };
}
