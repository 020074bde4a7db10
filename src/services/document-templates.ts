import type { Env } from "../env";
import { newId } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { isoNow } from "../lib/time";
import { DOCUMENT_TEMPLATES, type DocumentTemplateRow } from "../store/platform-resources";
import { checkTemplateSyntax } from "./email-templates";
import { changeResource, createResource, pageOf, removeResource, requireResource } from "./platform-resources";

/**
 * Document templates (docs/platform.md): Liquid over Markdown or the HTML subset, parsed when saved; what
 * create-document's `template_id` names.
 */

const NOUN = "Document template";

export const toDocumentTemplateView = (r: DocumentTemplateRow) => ({
  id: r.id,
  name: r.name,
  format: r.format as "markdown" | "html",
  content: r.content,
  created_by: r.created_by,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

export const documentTemplateUseCases = {
  list: async (env: Env, orgId: string, limit: number, offset: number) => {
    const page = await pageOf(env, DOCUMENT_TEMPLATES, orgId, limit, offset);
    return { total: page.total, results: page.results.map(toDocumentTemplateView) };
  },
  get: async (env: Env, orgId: string, id: string) =>
    toDocumentTemplateView(await requireResource(env, DOCUMENT_TEMPLATES, orgId, id, NOUN)),
  async create(env: Env, p: Principal, input: { name: string; format: "markdown" | "html"; content: string }) {
    checkTemplateSyntax({ content: input.content });
    const at = isoNow();
    const row: DocumentTemplateRow = {
      id: newId(),
      org_id: p.orgId,
      name: input.name,
      format: input.format,
      content: input.content,
      created_by: p.actor,
      created_at: at,
      updated_at: at,
    };
    return toDocumentTemplateView(await createResource(env, DOCUMENT_TEMPLATES, row, NOUN));
  },
  async update(env: Env, p: Principal, id: string, input: { name?: string; format?: "markdown" | "html"; content?: string }) {
    if (input.content !== undefined) checkTemplateSyntax({ content: input.content });
    const patch: Partial<DocumentTemplateRow> = { updated_at: isoNow() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.format !== undefined) patch.format = input.format;
    if (input.content !== undefined) patch.content = input.content;
    return toDocumentTemplateView(await changeResource(env, DOCUMENT_TEMPLATES, p.orgId, id, patch, NOUN));
  },
  remove: (env: Env, orgId: string, id: string) => removeResource(env, DOCUMENT_TEMPLATES, orgId, id, NOUN),
};
