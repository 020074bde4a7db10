import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface ErrorDetail {
  path?: string;
  location?: string;
  message: string;
  code?: string;
}

/** An error with an HTTP status and a stable code; the app's error handler renders it as JSON. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what: string): AppError => new AppError(404, "NOT_FOUND", `${what} not found`);
export const badRequest = (message: string, details: ErrorDetail[] = []): AppError =>
  new AppError(400, "BAD_REQUEST", message, details);
export const conflict = (message: string): AppError => new AppError(409, "CONFLICT", message);
export const forbidden = (message: string): AppError => new AppError(403, "FORBIDDEN", message);
export const unauthorized = (message = "Missing or invalid credentials"): AppError => new AppError(401, "UNAUTHORIZED", message);

export function errorBody(code: string, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } };
}
