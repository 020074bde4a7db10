import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";
import { SCHEMA_NAME_PATTERN } from "./records";

/** Platform files (docs/platform.md): the metadata document and the upload's query. */

export const FileSchema = z
  .object({
    id: z.string(),
    filename: z.string(),
    content_type: z.string(),
    size: z.number().int(),
    sha256: z.string().openapi({ description: "Hex SHA-256 of the bytes" }),
    entity_schema: z.string().nullable().openapi({ description: "Schema of the record the file is attached to" }),
    entity_id: z.string().nullable().openapi({ description: "The record the file is attached to" }),
    tags: z.array(z.string()),
    source: z.enum(["upload", "document", "email"]).openapi({
      description: "`upload` (this API), `document` (create-document), `email` (an inbound e-mail's attachment)",
    }),
    created_at: z.string(),
  })
  .openapi("File");

export const FileListSchema = z.object({ total: z.number(), results: z.array(FileSchema) }).openapi("FileList");

const Tags = z
  .string()
  .max(2000)
  .openapi({ description: "Comma-separated tags (matched by send-email's `attachments.source_filter.tag`)" });

export const UploadQuery = z
  .object({
    filename: z
      .string()
      .min(1)
      .max(LIMITS.MAX_FILENAME_LENGTH)
      .optional()
      .openapi({ description: "Name of a raw upload (multipart takes the part's own); default `file`" }),
    entity_schema: z.string().regex(SCHEMA_NAME_PATTERN).optional().openapi({ description: "Attach to a record of this schema" }),
    entity_id: z.string().min(1).max(200).optional().openapi({ description: "Attach to this record (with entity_schema)" }),
    tags: Tags.optional(),
  })
  .refine((q) => (q.entity_schema === undefined) === (q.entity_id === undefined), {
    message: "entity_schema and entity_id go together",
    path: ["entity_id"],
  });

export const binaryBody = { schema: { type: "string" as const, format: "binary" } };
export const multipartBody = {
  schema: {
    type: "object" as const,
    properties: { file: { type: "string" as const, format: "binary" } },
    required: ["file"],
  },
};
