/** Query parameters of the admin API: checked, with a 400 naming the one that is wrong. */
import { ApiError } from "../errors.ts";

/** An optional non-negative integer query parameter. */
export function intParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,16}$/.test(value)) throw new ApiError("invalid_request", `'${name}' must be a non-negative integer.`, name);
  return Number(value);
}

export function limitParam(value: string | undefined): number {
  const limit = intParam(value, "limit") ?? 50;
  if (limit < 1 || limit > 200) throw new ApiError("invalid_request", "'limit' must be from 1 to 200.", "limit");
  return limit;
}

/** An optional short text filter. */
export function textParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > 200) throw new ApiError("invalid_request", `'${name}' is too long.`, name);
  return value;
}
