/**
 * The API's one error type and its handler: every failure leaves as an OpenAI error object
 * `{ error: { message, type, param, code } }` with the matching HTTP status.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type OpenAIErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error" | "service_unavailable";

/** An error the API reports to its caller as is. Example: `throw new ApiError(404, "not_found_error", "model_not_found", "…")`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: OpenAIErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Hono `onError`: ApiError as is; anything else is logged and answered with a generic 500. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(err.toBody(), err.status);
  console.error("unhandled error", err);
  const internal = new ApiError(500, "server_error", "internal_error", "The server had an error processing the request.");
  return c.json(internal.toBody(), 500);
}

/** Hono `notFound`: unknown routes answer in the same format. */
export function handleNotFound(c: Context): Response {
  const e = new ApiError(404, "not_found_error", "unknown_route", `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`);
  return c.json(e.toBody(), 404);
}
