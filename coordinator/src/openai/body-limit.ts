/**
 * Request bodies are read with a size limit, in the Worker, before anything else sees them
 * (docs/api.md, "Limits"): a declared length over the limit is refused at once, and a body that
 * turns out longer while streaming in is refused as soon as it crosses the limit.
 */
import { ApiError } from "../errors.ts";

/** The default limit on a request body: room for any prompt a model's context can take, and no more. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 2 ** 20;

export function maxBodyBytes(env: { ARIA_MAX_BODY_BYTES?: string }): number {
  const n = Number(env.ARIA_MAX_BODY_BYTES);
  return env.ARIA_MAX_BODY_BYTES && Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_BODY_BYTES;
}

/** The body as text; throws ApiError("request_too_large") past `limit` bytes. */
export async function readBodyLimited(request: Request, limit: number): Promise<string> {
  const tooLarge = () => new ApiError("request_too_large", `The request body is larger than this server's limit of ${limit} bytes.`);
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Stop reading; the runtime discards the rest of the upload with the request.
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
