import { CreateDocumentTemplateRequest, DocumentTemplateSchema, UpdateDocumentTemplateRequest } from "../schemas/templates";
import { documentTemplateUseCases } from "../services/document-templates";
import { crudRouter, listSchema } from "./platform-crud";

/** `/v1/document-templates` (docs/platform.md): what `template_id` of create-document names. */
export const documentTemplatesRouter = crudRouter({
  noun: "document template",
  op: "DocumentTemplate",
  tag: "Document templates",
  idName: "document_template_id",
  view: DocumentTemplateSchema,
  list: listSchema(DocumentTemplateSchema, "DocumentTemplateList"),
  create: CreateDocumentTemplateRequest,
  update: UpdateDocumentTemplateRequest,
  useCases: documentTemplateUseCases,
  notes: "The content is a Liquid template, parsed when saved (400 naming the field)",
});
