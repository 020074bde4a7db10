import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/**
 * Shared inboxes and the inbound e-mail the intake stores as thread and message records (docs/platform.md).
 * Threads are records of schema `email_thread`, messages of `email_message`; attachments are files.
 */

const Name = z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH);
const Email = z.string().email().max(320);

export const InboxSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    address: z
      .string()
      .nullable()
      .openapi({ description: "The address mail to this inbox arrives at; replies are sent from it" }),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Inbox");

export const CreateInboxRequest = z.strictObject({ name: Name, address: Email.optional() }).openapi("CreateInboxRequest");
export const UpdateInboxRequest = z
  .strictObject({ name: Name.optional(), address: Email.nullable().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "Nothing to update" })
  .openapi("UpdateInboxRequest");

export const EmailAddress = z
  .union([Email, z.strictObject({ email: Email, name: z.string().max(200).optional() })])
  .openapi("EmailAddress");
export type EmailAddressInput = z.output<typeof EmailAddress>;

const MessageId = z.string().min(1).max(998);

/** An inbound e-mail as a mail gateway posts it with a `received_email` event. */
export const InboundEmail = z
  .strictObject({
    inbox_id: z.string().min(1).max(200).optional().openapi({ description: "The inbox it arrived in (404 if unknown)" }),
    message_id: MessageId.optional().openapi({ description: "The Message-ID header; threads later replies" }),
    in_reply_to: MessageId.optional(),
    references: z.array(MessageId).max(100).optional(),
    from: EmailAddress,
    to: z.array(EmailAddress).min(1).max(100),
    cc: z.array(EmailAddress).max(100).optional(),
    subject: z.string().max(998).default(""),
    text: z.string().max(200_000).optional(),
    html: z.string().max(500_000).optional(),
    sent_at: z.iso.datetime().optional(),
    attachments: z
      .array(
        z.strictObject({
          filename: z.string().min(1).max(LIMITS.MAX_FILENAME_LENGTH),
          content_type: z.string().max(200).default("application/octet-stream"),
          content_base64: z
            .string()
            .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64")
            .refine((b) => b.length % 4 === 0, "must be base64 (length a multiple of 4)")
            .openapi({ description: "The file, base64" }),
        }),
      )
      .max(LIMITS.MAX_INBOUND_ATTACHMENTS)
      .optional(),
  })
  .openapi("InboundEmail");
export type InboundEmail = z.output<typeof InboundEmail>;
