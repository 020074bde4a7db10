import type { Env } from "../env";
import { AppError, notFound } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { TransportFailure, createRequester, scrub, type Exchange } from "../providers/http";
import { getProviderAction } from "../providers/registry";
import type { AnyProvider, FailureKind, ProviderAction, ProviderResult } from "../providers/types";
import {
  type SealedConnectionRow,
  getConnectionRow,
  listConnectionRows,
  setConnectionStatus,
  touchConnection,
} from "../store/connections";
import { openConnection, requireProvider, secretValues } from "./connections";

/**
 * Runs one provider action with a connection: the one path shared by the `integration` flow action, send_email,
 * `POST /v1/automation/execute` and the tool catalog. Bad input throws AppError (4xx); a vendor failure is an
 * outcome, never an exception. Failing calls update the connection's status.
 */

export interface IntegrationRequest {
  orgId: string;
  platform: string;
  action: string;
  connectionId?: string;
  params: unknown;
}

export interface PreparedCall {
  provider: AnyProvider;
  actionName: string;
  action: ProviderAction<unknown>;
  params: unknown;
  connection: SealedConnectionRow;
}

export interface CallOutcome {
  success: boolean;
  platform: string;
  action: string;
  connection_id: string;
  data?: unknown;
  error?: string;
  error_kind?: FailureKind;
  http_status?: number;
  vendor_code?: string | number;
  retry_after_ms?: number;
  duration_ms: number;
  /** Requests and responses, credentials masked (for the run history). */
  exchanges: Exchange[];
}

export function requireAction(provider: AnyProvider, action: string): ProviderAction<unknown> {
  const found = getProviderAction(provider, action);
  if (!found) {
    const known = Object.keys(provider.actions).join(", ");
    throw new AppError(
      400,
      "UNKNOWN_ACTION",
      `Platform ${provider.platform} has no action "${action.slice(0, 100)}"; its actions: ${known}`,
      [{ path: "action", message: `must be one of ${known}` }],
    );
  }
  return found;
}

/** Validates params against the action's schema: 400 naming each bad param. */
export function parseParams(action: ProviderAction<unknown>, params: unknown, prefix = "params"): unknown {
  const parsed = action.params.safeParse(params ?? {});
  if (!parsed.success) {
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "Invalid params",
      parsed.error.issues.map((i) => ({
        path: [prefix, ...i.path.map(String)].join("."),
        location: "json",
        message: i.message,
        code: i.code,
      })),
    );
  }
  return parsed.data;
}

/**
 * The connection a call uses: the one named (404 when the org has no such connection, whatever its other org),
 * else the platform's only connection.
 */
export async function resolveConnection(
  env: Env,
  orgId: string,
  platform: string,
  connectionId?: string,
): Promise<SealedConnectionRow> {
  if (connectionId) {
    const row = await getConnectionRow(env.DB, orgId, connectionId);
    if (!row) throw notFound("Connection");
    if (row.platform !== platform) {
      throw new AppError(
        400,
        "CONNECTION_PLATFORM_MISMATCH",
        `Connection ${connectionId} is a ${row.platform} connection, not ${platform}`,
      );
    }
    return row;
  }
  const { results, total } = await listConnectionRows(env.DB, orgId, { platform, limit: 2, offset: 0 });
  if (total === 0)
    throw new AppError(
      400,
      "NO_CONNECTION",
      `${platform} is not configured: no ${platform} connection; create one with POST /v1/connections`,
    );
  if (total > 1)
    throw new AppError(400, "CONNECTION_REQUIRED", `Several ${platform} connections exist: name one with connection_id`);
  return results[0];
}

export async function prepareCall(env: Env, req: IntegrationRequest): Promise<PreparedCall> {
  const provider = requireProvider(req.platform);
  const action = requireAction(provider, req.action);
  const params = parseParams(action, req.params);
  const connection = await resolveConnection(env, req.orgId, provider.platform, req.connectionId);
  return { provider, actionName: req.action, action, params, connection };
}

function capData(data: unknown): unknown {
  const bytes = new TextEncoder().encode(JSON.stringify(data ?? null)).length;
  return bytes > LIMITS.MAX_PROVIDER_RESULT_BYTES ? { truncated: true, bytes } : data;
}

/** Calls the vendor. Throws only CONNECTION_UNREADABLE (the credentials cannot be decrypted: fail closed). */
export async function performCall(
  env: Env,
  call: PreparedCall,
  opts: { idempotencyKey?: string; now?: number } = {},
): Promise<CallOutcome> {
  const { provider, connection } = call;
  const config = await openConnection(env, connection);
  const secrets = secretValues(provider, config);
  const requester = createRequester({
    apiRoot: typeof config.base_url === "string" ? config.base_url : provider.apiRoot(config),
    allowedHosts: env.ALLOWED_OUTBOUND_HOSTS,
    idempotencyKey: opts.idempotencyKey,
    secrets,
  });
  const started = Date.now();
  let result: ProviderResult;
  try {
    result = await call.action.run({ config, request: requester.request, now: opts.now ?? Date.now() }, call.params);
  } catch (err) {
    if (!(err instanceof TransportFailure)) throw err;
    result = { success: false, kind: err.kind, error: err.message };
  }
  const base = {
    platform: provider.platform,
    action: call.actionName,
    connection_id: connection.id,
    duration_ms: Date.now() - started,
    exchanges: requester.exchanges,
  };
  const at = isoNow();
  if (result.success) {
    await setConnectionStatus(env.DB, connection.org_id, connection.id, "active", null, at, "used");
    return { ...base, success: true, data: capData(scrub(result.data, secrets)), http_status: result.status };
  }
  const error = scrub(result.error, secrets);
  if (result.kind === "auth" || result.kind === "expired") {
    await setConnectionStatus(
      env.DB,
      connection.org_id,
      connection.id,
      result.kind === "auth" ? "error" : "expired",
      error,
      at,
      "used",
    );
  } else {
    await touchConnection(env.DB, connection.org_id, connection.id, at);
  }
  return {
    ...base,
    success: false,
    error,
    error_kind: result.kind,
    http_status: result.status,
    vendor_code: result.vendor_code,
    retry_after_ms: result.retry_after_ms,
  };
}

/** prepareCall + performCall. */
export async function runIntegration(
  env: Env,
  req: IntegrationRequest,
  opts: { idempotencyKey?: string; now?: number } = {},
): Promise<CallOutcome> {
  return performCall(env, await prepareCall(env, req), opts);
}
