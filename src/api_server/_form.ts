/**
 * Reading `multipart/form-data` request bodies (attachment upload, import) with the API's error
 * replies: a body that is not a form is 400 Code 2001, a missing or malformed field 422 Code 2001.
 *
 * @module
 */
import { ApiServerError } from "./http.ts";
import { invalidValue } from "./_mail_request.ts";
import { ErrorCode } from "../api/types.ts";

/** Parses the request body as `multipart/form-data`. */
export async function readForm(request: Request): Promise<FormData> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw new ApiServerError(400, ErrorCode.InvalidValue, "Expected a multipart/form-data body");
  }
  try {
    return await request.formData();
  } catch {
    throw new ApiServerError(400, ErrorCode.InvalidValue, "Malformed multipart/form-data body");
  }
}

/** A text field (a file part is read as text too); `undefined` when absent. */
export async function formText(form: FormData, name: string): Promise<string | undefined> {
  const v = form.get(name);
  if (v === null) return undefined;
  return typeof v === "string" ? v : await v.text();
}

/** A file part's bytes (a text field is taken as its UTF-8 bytes); `undefined` when absent. */
export async function formBytes(form: FormData, name: string): Promise<Uint8Array | undefined> {
  const v = form.get(name);
  if (v === null) return undefined;
  if (typeof v === "string") return new TextEncoder().encode(v);
  return new Uint8Array(await v.arrayBuffer());
}

/** Like {@link formBytes} but required and non-empty. */
export async function requireBytes(form: FormData, name: string): Promise<Uint8Array> {
  const b = await formBytes(form, name);
  if (!b || b.length === 0) throw invalidValue(`${name} is required`);
  return b;
}
