/**
 * Small helpers shared by the endpoint files: checking that a reply carries the field an endpoint
 * promises, and chunking ID lists.
 *
 * @module
 */
import { ApiError } from "./errors.ts";
import type { ApiReply } from "./transport.ts";

/**
 * Returns `reply[key]`, or throws an {@link ApiError} (status 200, code 0) naming the request when
 * the field is missing: a success reply without its payload is a server bug, not "empty".
 */
export function field<T>(reply: ApiReply, key: string, method: string, path: string): T {
  const v = reply[key];
  if (v === undefined || v === null) {
    throw new ApiError(200, 0, `reply without ${key}`, undefined, { method, path });
  }
  return v as T;
}

/** Like {@link field} but a missing array is an empty one. */
export function list<T>(reply: ApiReply, key: string): T[] {
  const v = reply[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * An ID as a path segment: `encodeURIComponent`, except that `=` (legal in a path segment, and
 * the padding of Proton's base64 IDs) stays as it is, as go-proton-api sends it.
 */
export function seg(id: string): string {
  return encodeURIComponent(id).replace(/%3D/g, "=");
}
