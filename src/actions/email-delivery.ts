import { relationRefs } from "../engine/relations";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { listProviders } from "../providers/registry";
import { requireProvider } from "../services/connections";
import { documentTypeOf, readFileBytes } from "../services/files";
import { parseParams, requireAction, type PreparedCall } from "../services/integrations";
import { connectionSummaries, getConnectionRow, type SealedConnectionRow } from "../store/connections";
import { getFileRow, getFileRows, listFileRows, type FileRow } from "../store/files";
import { isOutcome, outcomeToResult, providerEffect, runPrepared } from "./integration";
import type { SideEffect } from "../engine/reruns/side-effects";
import { permanentFailure, type ActionContext, type ActionResult, type EffectContext } from "./types";

/**
 * Sending e-mail for send-email, reply-email and forward-email: through the organization's e-mail connection
 * (a provider of category `email`, today Resend), with files of FILES attached. The run history keeps each
 * attachment's name and size, not its bytes.
 */

export const emailPlatforms = () =>
  listProviders()
    .filter((p) => p.category === "email")
    .map((p) => p.platform);

/** The connection named by `connectionId`, or the org's only e-mail connection. Throws AppError (400/404). */
export async function emailConnection(
  ctx: Pick<ActionContext, "env" | "orgId">,
  connectionId?: string,
): Promise<SealedConnectionRow> {
  const platforms = emailPlatforms();
  if (connectionId) {
    const connection = await getConnectionRow(ctx.env.DB, ctx.orgId, connectionId);
    if (!connection) throw notFound("Connection");
    if (!platforms.includes(connection.platform)) {
      throw new AppError(
        400,
        "CONNECTION_PLATFORM_MISMATCH",
        `Connection ${connectionId} is not an e-mail connection (${connection.platform})`,
      );
    }
    return connection;
  }
  const candidates = (await connectionSummaries(ctx.env.DB, ctx.orgId)).filter((c) => platforms.includes(c.platform));
  if (candidates.length === 0)
    throw new AppError(
      400,
      "NO_CONNECTION",
      `E-mail is not configured: no e-mail connection (${platforms.join(", ")}); create one with POST /v1/connections`,
    );
  if (candidates.length > 1)
    throw new AppError(400, "CONNECTION_REQUIRED", "Several e-mail connections exist: set config.connection_id");
  return (await getConnectionRow(ctx.env.DB, ctx.orgId, candidates[0].id))!;
}

/** The e-mail a run would send: through which provider (a read of the connections; refused as the run would be). */
export async function plannedEmailEffect(ctx: EffectContext, connectionId?: string): Promise<SideEffect[]> {
  const provider = requireProvider((await emailConnection(ctx, connectionId)).platform);
  return [providerEffect({ provider, actionName: "send_email", action: requireAction(provider, "send_email") }, ctx)];
}

/** Prepares the `send_email` call of the connection's provider with `params` (validated against its schema). */
export async function prepareEmail(
  ctx: ActionContext,
  params: Record<string, unknown>,
  connectionId?: string,
): Promise<PreparedCall> {
  const connection = await emailConnection(ctx, connectionId);
  const provider = requireProvider(connection.platform);
  const action = requireAction(provider, "send_email");
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  return { provider, actionName: "send_email", action, params: parseParams(action, clean, "config"), connection };
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Replaces attachment contents in a recorded request by their size. */
function elideAttachments(request: unknown): unknown {
  const req = request as { body?: { attachments?: { content?: unknown }[] } } | undefined;
  const list = req?.body?.attachments;
  if (!Array.isArray(list)) return request;
  return {
    ...req,
    body: {
      ...req!.body,
      attachments: list.map((a) => ({
        ...a,
        content: typeof a.content === "string" ? `[base64, ${Math.floor((a.content.length * 3) / 4)} bytes]` : a.content,
      })),
    },
  };
}

/** Sends through the e-mail connection; `files` are read from FILES and attached. */
export async function sendEmailThroughConnection(
  ctx: ActionContext,
  params: Record<string, unknown>,
  files: FileRow[],
  connectionId?: string,
): Promise<ActionResult> {
  if (files.length > LIMITS.MAX_EMAIL_ATTACHMENTS) {
    return permanentFailure("BAD_CONFIG", `At most ${LIMITS.MAX_EMAIL_ATTACHMENTS} attachments per e-mail (got ${files.length})`);
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > LIMITS.MAX_EMAIL_ATTACHMENT_BYTES) {
    return permanentFailure("BAD_CONFIG", `Attachments of ${total} bytes exceed ${LIMITS.MAX_EMAIL_ATTACHMENT_BYTES} bytes`);
  }
  const attachments: { filename: string; content: string; content_type: string }[] = [];
  for (const f of files) {
    const bytes = await readFileBytes(ctx.env, f);
    if (!bytes)
      return permanentFailure("BAD_CONFIG", `File ${f.id} has no stored bytes`, { code: "FILE_NOT_FOUND", file_id: f.id });
    attachments.push({ filename: f.filename, content: toBase64(bytes), content_type: f.content_type });
  }
  const outcome = await runPrepared(ctx, () =>
    prepareEmail(ctx, attachments.length ? { ...params, attachments } : params, connectionId),
  );
  if (!isOutcome(outcome)) return outcome;
  const result = outcomeToResult(
    outcome,
    files.length ? { attachments: files.map((f) => ({ file_id: f.id, filename: f.filename, size: f.size })) } : {},
  );
  return {
    ...result,
    request: Array.isArray(result.request) ? result.request.map(elideAttachments) : elideAttachments(result.request),
  };
}

/** One entry of epilot's `attachments` (send-email), plus our `file_id` naming one file directly. */
export interface AttachmentSpec {
  file_id?: string;
  source_filter?: {
    limit?: number;
    filename_regex?: string;
    attribute?: string;
    relation_tag?: string;
    tag?: string;
    document_type?: string;
    self?: boolean;
  };
}

/** File ids an attribute of the entity names: an id, a list of ids, or relation items. */
function idsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  return relationRefs({ v: value }).map((r) => r.entity_id);
}

/**
 * The files `specs` select: `file_id`, or a `source_filter` over the files related to the execution's entity
 * (those attached to it, or named by its `attribute` / relations tagged `relation_tag`), narrowed by
 * filename_regex, document_type and tag, at most `limit`. A missing `file_id` or a bad regex is a failure.
 */
export async function attachmentFiles(
  ctx: ActionContext,
  specs: AttachmentSpec[] | undefined,
): Promise<FileRow[] | ActionResult> {
  const picked = new Map<string, FileRow>();
  for (const spec of specs ?? []) {
    if (spec.file_id) {
      const row = await getFileRow(ctx.env.DB, ctx.orgId, spec.file_id);
      if (!row) {
        return permanentFailure("BAD_CONFIG", `File ${spec.file_id} does not exist (deleted?)`, {
          code: "FILE_NOT_FOUND",
          file_id: spec.file_id,
        });
      }
      picked.set(row.id, row);
      continue;
    }
    const f = spec.source_filter ?? {};
    let candidates: FileRow[];
    if (f.attribute) candidates = await getFileRows(ctx.env.DB, ctx.orgId, idsIn(ctx.entity?.[f.attribute]));
    else if (f.relation_tag) {
      const ids = relationRefs(ctx.entity)
        .filter((r) => r.tags.includes(f.relation_tag!))
        .map((r) => r.entity_id);
      candidates = await getFileRows(ctx.env.DB, ctx.orgId, ids);
    } else if (f.self) candidates = [];
    else if (ctx.entityId) {
      candidates = (await listFileRows(ctx.env.DB, ctx.orgId, { entityId: ctx.entityId, limit: 100, offset: 0 })).results;
    } else candidates = [];
    let re: RegExp | undefined;
    try {
      re = f.filename_regex ? new RegExp(f.filename_regex) : undefined;
    } catch (err) {
      return permanentFailure("BAD_CONFIG", `attachments filename_regex is not a valid regex: ${(err as Error).message}`);
    }
    const matching = candidates.filter(
      (c) =>
        (!re || re.test(c.filename)) &&
        (!f.document_type || documentTypeOf(c.content_type) === f.document_type) &&
        (!f.tag || c.tags.includes(f.tag)),
    );
    for (const c of f.limit ? matching.slice(0, f.limit) : matching) picked.set(c.id, c);
  }
  return [...picked.values()];
}
