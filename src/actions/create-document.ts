import { z } from "zod";
import { htmlBlocks, markdownBlocks, markdownHtml } from "../engine/documents/blocks";
import { DocumentTooLong, renderPdf } from "../engine/documents/pdf";
import { TemplateError, renderValue } from "../engine/templates";
import { LIMITS } from "../lib/limits";
import { deterministicId } from "../services/executions";
import { storeFile } from "../services/files";
import { DOCUMENT_TEMPLATES, getResource } from "../store/platform-resources";
import type { SideEffect } from "../engine/reruns/side-effects";
import { defineAction, permanentFailure, type EffectContext } from "./types";

/** The document a run stores: its file id derives from the action's key, so a repeat replaces it, never adds one. */
const documentEffect = (ctx: Pick<EffectContext, "idempotencyKey">): SideEffect => ({
  kind: "file",
  target: "document",
  operation: "store",
  idempotency_key: ctx.idempotencyKey,
  dedupe: "engine",
});

/**
 * epilot's create-document (docs/platform.md): the document template `template_id` rendered (Liquid) over the
 * execution's context into a PDF made in the Worker (or an HTML file when `filename` ends in `.html`), stored in
 * FILES, attached to the execution's record. Outputs `{file_id, filename, size, content_type}`. The file's id
 * derives from the action's idempotency key: a retried attempt replaces the same file.
 */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `filename` (default: the template's name) with `.pdf` added unless it names .pdf or .html. */
function outputName(filename: string | undefined, templateName: string): { name: string; html: boolean } {
  const base = (filename ?? templateName).trim() || "document";
  if (/\.html?$/i.test(base)) return { name: base, html: true };
  return { name: /\.pdf$/i.test(base) ? base : `${base}.pdf`, html: false };
}

export const createDocumentAction = defineAction({
  types: ["create-document"],
  config: z.looseObject({ template_id: z.string().optional(), filename: z.string().optional() }),
  async run(ctx, cfg) {
    if (!cfg.template_id) return permanentFailure("BAD_CONFIG", "create-document needs config.template_id");
    const template = await getResource(ctx.env.DB, DOCUMENT_TEMPLATES, ctx.orgId, cfg.template_id);
    if (!template) {
      return permanentFailure(
        "BAD_CONFIG",
        `Document template ${cfg.template_id} does not exist (deleted after the flow was saved?)`,
        {
          code: "DOCUMENT_TEMPLATE_NOT_FOUND",
          template_id: cfg.template_id,
        },
      );
    }
    let content: string;
    try {
      // Markdown and HTML documents both end as HTML or PDF text: values are escaped (`| raw` opts out).
      content = String(renderValue(template.content, ctx.templateContext(), { mode: "html" }).value ?? "");
    } catch (err) {
      if (err instanceof TemplateError)
        return permanentFailure("TEMPLATE_ERROR", `Document template ${template.id}: ${err.message}`);
      throw err;
    }
    const { name, html } = outputName(cfg.filename, template.name);
    let bytes: Uint8Array;
    try {
      if (html) {
        const body = template.format === "html" ? content : markdownHtml(content);
        const page = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(template.name)}</title></head><body>\n${body}\n</body></html>\n`;
        bytes = new TextEncoder().encode(page);
      } else {
        const blocks = template.format === "html" ? htmlBlocks(content) : markdownBlocks(content);
        bytes = await renderPdf(blocks, {
          title: template.name,
          maxPages: LIMITS.MAX_DOCUMENT_PAGES,
          createdAt: new Date(ctx.now),
        });
      }
    } catch (err) {
      if (err instanceof DocumentTooLong)
        return permanentFailure("DOCUMENT_GENERATION_ERROR", `Document ${name}: ${err.message}`);
      throw err;
    }
    if (bytes.byteLength > LIMITS.MAX_FILE_BYTES) {
      return permanentFailure(
        "DOCUMENT_GENERATION_ERROR",
        `Document ${name} is ${bytes.byteLength} bytes; files may be at most ${LIMITS.MAX_FILE_BYTES}`,
      );
    }
    const schema = typeof ctx.entity?._schema === "string" ? ctx.entity._schema : undefined;
    const file = await storeFile(ctx.env, ctx.orgId, {
      id: await deterministicId(ctx.orgId, ctx.idempotencyKey, "document"),
      bytes,
      filename: name,
      contentType: html ? "text/html; charset=utf-8" : "application/pdf",
      source: "document",
      createdBy: `automation:${ctx.executionId}`,
      entity: schema && ctx.entityId ? { schema, id: ctx.entityId } : undefined,
      tags: ["document"],
    });
    return {
      kind: "success",
      outputs: {
        file_id: file.id,
        filename: file.filename,
        size: file.size,
        content_type: file.content_type,
        sha256: file.sha256,
        entity_id: file.entity_id,
        template_id: template.id,
      },
      effects: [{ ...documentEffect(ctx), ref: file.id, note: file.filename, outcome: "ok" }],
    };
  },
  effects: (ctx) => [documentEffect(ctx)],
});
