/**
 * The API's one error type and its handler: every failure leaves as an OpenAI error object
 * `{ error: { message, type, param, code } }`. The code decides the HTTP status (API_ERRORS in
 * shared/protocol/errors.ts) and the status decides the OpenAI error type (here, and only here).
 */
import type { Context } from "hono";
import { API_ERRORS, type ApiErrorCode, type ApiStatus } from "../../shared/protocol/errors.ts";

export type OpenAIErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "requests"
  | "not_found_error"
  | "server_error"
  | "service_unavailable";

/** The OpenAI error type clients expect for an HTTP status. */
export function openAIErrorType(status: ApiStatus): OpenAIErrorType {
  switch (status) {
    case 400:
    case 413:
    case 426:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "requests";
    case 503:
      return "service_unavailable";
    case 500:
    case 502:
      return "server_error";
  }
}

/** An error the API reports to its caller as is. Example: `throw new ApiError("model_not_found", "…", "model")`. */
export class ApiError extends Error {
  readonly status: ApiStatus;
  readonly type: OpenAIErrorType;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly param: string | null = null,
    /** Extra response headers (Retry-After and the rate-limit headers on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = API_ERRORS[code].status;
    this.type = openAIErrorType(this.status);
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toResponse(c: Context): Response {
    return c.json(this.toBody(), this.status, this.headers);
  }
}

/** Hono `onError`: ApiError as is; anything else is logged and answered with a generic 500. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return err.toResponse(c);
  console.error("unhandled error", err);
  return new ApiError("internal_error", "The server had an error processing the request.").toResponse(c);
}

/** Hono `notFound`: unknown routes answer in the same format. */
export function handleNotFound(c: Context): Response {
  return new ApiError("unknown_route", `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse(c);
}
