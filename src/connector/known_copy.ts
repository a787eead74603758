/**
 * Whether a client's APPEND is a copy of a message this bridge served (so APPEND can label the
 * message instead of importing a duplicate; see `append.ts`, `labelKnownCopy`).
 *
 * The bytes must be the served literal's, except for what Maildir synchronisers add on the way:
 *
 * - **mbsync** (isync) writes an `X-TUID:` field into every message it copies to the other side,
 *   so it can find the copy again without UIDPLUS, and uploads the file as it is: a file moved
 *   from `INBOX/cur` to `Archive/cur` is APPENDed with that line added (isync `drv_imap.c`,
 *   `sync.c` `copy_msg_convert`).
 * - **offlineimap** adds `X-OfflineIMAP:` for the same purpose when the server has no UIDPLUS.
 * - Both store Maildir files with LF line ends and convert back to CRLF on upload; a client
 *   that does not is normalised the same way.
 *
 * Those fields are taken out of the header block of both sides (a message that really carried
 * one keeps the comparison fair) and line ends made CRLF; everything else must be equal.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { bytesEqual, parseHeader, toCrlf, withoutHeaderFields } from "../mime/mod.ts";

/** Header fields clients add to messages they upload to find them again (lower case). */
const TRACKING_FIELDS = new Set(["x-tuid", "x-offlineimap"]);

/** Whether `appended` is `served` as a Maildir synchroniser uploads it back (see above). */
export function isServedCopy(served: Uint8Array, appended: Uint8Array): boolean {
  if (bytesEqual(served, appended)) return true;
  return bytesEqual(withoutTracking(toCrlf(served)), withoutTracking(toCrlf(appended)));
}

/**
 * The SHA-256 of a message as {@link isServedCopy} compares it (tracking fields out, CRLF): two
 * uploads of one Maildir file have the same digest.
 */
export function copyDigest(literal: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash("sha256").update(withoutTracking(toCrlf(literal))).digest(),
  );
}

/** The message without the {@link TRACKING_FIELDS} of its top-level header block. */
function withoutTracking(literal: Uint8Array): Uint8Array {
  const fields = parseHeader(literal).header.fields.filter((f) => TRACKING_FIELDS.has(f.key));
  return withoutHeaderFields(literal, fields);
}
