/**
 * `multipart/form-data` bodies (RFC 7578) built as bytes, so uploads are exact, testable and
 * re-sendable on retries: attachment upload (`POST /mail/v4/attachments`, proton-api.md §1.6) and
 * import (`POST /mail/v4/messages/import`, §1.8).
 *
 * Text fields carry no `Content-Type` (as Go's `SetMultipartFormData` sends them); file parts
 * carry `filename` and their own `Content-Type`. Names and filenames are UTF-8, with `"`, CR and
 * LF percent-escaped the way browsers do (WHATWG HTML "multipart/form-data encoding algorithm").
 *
 * @module
 */

/** A text field; `contentType` is sent only when given (e.g. `application/json`). */
export interface FormField {
  name: string;
  value: string;
  contentType?: string;
}

/** A file part. */
export interface FormFile {
  name: string;
  filename: string;
  contentType: string;
  data: Uint8Array;
}

/** One part of a form: a text field or a file. */
export type FormPart = FormField | FormFile;

/** An encoded form: the body and the `Content-Type` header that goes with it. */
export interface EncodedForm {
  body: Uint8Array<ArrayBuffer>;
  /** `multipart/form-data; boundary=…` */
  contentType: string;
}

const encoder = new TextEncoder();

/** Escapes a name or filename for a quoted `Content-Disposition` parameter. */
function quoteParam(value: string): string {
  return value.replace(/\r\n|\r|\n/g, "%0D%0A").replace(/"/g, "%22");
}

/** A random boundary: 24 hex digits after a fixed prefix, never found in ordinary data. */
export function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `----BridgeFormBoundary${
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  outer: for (
    let i = haystack.indexOf(first);
    i >= 0 && i <= haystack.length - needle.length;
    i = haystack.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Encodes parts as `multipart/form-data`.
 *
 * @param parts Fields and files, in order.
 * @param boundary The boundary (default: random). It must not occur in any part; a random one is
 * drawn again when it does.
 * @returns The body bytes and the matching `Content-Type`.
 * @throws {RangeError} when a given boundary occurs in the data or is not a valid boundary.
 */
export function encodeMultipart(parts: readonly FormPart[], boundary?: string): EncodedForm {
  if (boundary !== undefined && !/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(boundary)) {
    throw new RangeError("invalid multipart boundary");
  }
  const heads = parts.map((p) => {
    let head = `Content-Disposition: form-data; name="${quoteParam(p.name)}"`;
    if ("data" in p) head += `; filename="${quoteParam(p.filename)}"`;
    if (p.contentType) head += `\r\nContent-Type: ${p.contentType.replace(/[\r\n]/g, "")}`;
    return encoder.encode(head + "\r\n\r\n");
  });
  const payloads = parts.map((p) => "data" in p ? p.data : encoder.encode(p.value));
  let b = boundary ?? randomBoundary();
  for (let tries = 0;; tries++) {
    const delimiter = encoder.encode(`--${b}`);
    if (!payloads.some((d) => includes(d, delimiter))) break;
    if (boundary !== undefined) throw new RangeError("the boundary occurs in the form data");
    if (tries > 8) throw new RangeError("could not find a boundary absent from the data");
    b = randomBoundary();
  }
  const open = encoder.encode(`--${b}\r\n`);
  const between = encoder.encode(`\r\n--${b}\r\n`);
  const close = encoder.encode(parts.length ? `\r\n--${b}--\r\n` : `--${b}--\r\n`);
  let size = close.length;
  parts.forEach((_, i) =>
    size += (i === 0 ? open : between).length + heads[i].length + payloads[i].length
  );
  const body = new Uint8Array(size);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    body.set(bytes, at);
    at += bytes.length;
  };
  parts.forEach((_, i) => {
    put(i === 0 ? open : between);
    put(heads[i]);
    put(payloads[i]);
  });
  put(close);
  return { body, contentType: `multipart/form-data; boundary=${b}` };
}
