/**
 * Request-body checks shared by the mail routes and the mail controls.
 *
 * @module
 */
import { ApiServerError } from "./http.ts";
import { ErrorCode } from "../api/types.ts";

/** Most message IDs one action request may carry (go-proton-api sends chunks of 150). */
export const MAX_ACTION_IDS = 150;

/** A 422 Code 2001 error. */
export function invalidValue(message: string): ApiServerError {
  return new ApiServerError(422, ErrorCode.InvalidValue, message);
}

/** The body as an object (any JSON object). */
export type Body = Record<string, unknown>;

/** `IDs`: a non-empty list of at most {@link MAX_ACTION_IDS} strings. */
export function idList(body: Body, field = "IDs"): string[] {
  const ids = body[field];
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string")) {
    throw invalidValue(`${field} must be a non-empty list of message IDs`);
  }
  if (ids.length > MAX_ACTION_IDS) {
    throw invalidValue(`${field} may hold at most ${MAX_ACTION_IDS} IDs`);
  }
  return ids;
}

/** An optional string field. */
export function optString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidValue(`${field} must be a string`);
  return v;
}

/** A 0/1 (or boolean) field; `undefined` when absent. */
export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (v === 0 || v === 1 || v === true || v === false) return v === 1 || v === true;
  throw invalidValue(`${field} must be 0 or 1`);
}

/** An optional integer field (numbers or numeric strings, as Go's `,string` tags send). */
export function optInt(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw invalidValue(`${field} must be an integer`);
  }
  return n;
}
