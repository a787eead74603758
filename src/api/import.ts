/**
 * Import of encrypted RFC 822 messages (IMAP APPEND outside Drafts; go-proton-api
 * `message_import.go`, `message_import_types.go`; proton-api.md §1.8):
 * `POST /mail/v4/messages/import`, `multipart/form-data` with one file part per message (name
 * `"0"`, `"1"`…, filename `"<n>.eml"`, type `message/rfc822`, content = the encrypted literal +
 * CRLF) and a `Metadata` part (`application/json`) keyed by part name. Reply:
 * `{"Code": 1001, "Responses": [{"Name", "Response": {"Code", "MessageID"}}]}`.
 *
 * At most {@link MAX_IMPORT_COUNT} messages and {@link MAX_IMPORT_SIZE} bytes go in one request;
 * longer lists are split. A single message over the size limit fails the whole call with
 * {@link ImportSizeError} before anything is sent (as go-proton-api checks every message first).
 *
 * @module
 */
import { ApiError } from "./errors.ts";
import { type EncodedForm, encodeMultipart, type FormPart } from "./multipart.ts";
import type { ApiClient } from "./transport.ts";
import type { ImportMetadata, ImportRes, ImportResponseItem } from "./types.ts";
import { CODE_SUCCESS, ErrorCode } from "./types.ts";

/** Most messages per import request (go-proton-api `maxImportCount`). */
export const MAX_IMPORT_COUNT = 10;
/**
 * Largest encrypted message, and largest sum of messages in one request: 30 MiB in the
 * go-proton-api version Bridge 3.21 pins (`maxImportSize`).
 */
export const MAX_IMPORT_SIZE = 30 * 1024 * 1024;
/** The API's text for an oversize import (go-proton-api `ErrImportSizeExceeded`). */
export const IMPORT_SIZE_ERROR_TEXT = "message exceeds maximum import size of 30MB";

/** A message too large to import: refused before sending, or by the server. */
export class ImportSizeError extends Error {
  override name = "ImportSizeError";
  /** Index of the offending message in the caller's list (-1 when the server did not say). */
  readonly index: number;
  /** Its size in bytes (0 when unknown). */
  readonly size: number;
  /** The limit in bytes. */
  readonly limit: number;

  /** `cause` is the server's {@link ApiError} when the refusal came from there. */
  constructor(index: number, size: number, limit = MAX_IMPORT_SIZE, cause?: ApiError) {
    super(
      index >= 0
        ? `${IMPORT_SIZE_ERROR_TEXT} (message ${index}: ${size} bytes)`
        : IMPORT_SIZE_ERROR_TEXT,
      cause ? { cause } : undefined,
    );
    this.index = index;
    this.size = size;
    this.limit = limit;
  }
}

/** One message to import. */
export interface ImportItem {
  /** The encrypted RFC 822 literal (proton-api.md §3.5). */
  literal: Uint8Array;
  metadata: ImportMetadata;
}

/** The outcome of one imported message, in the caller's order. */
export interface ImportResult {
  /** True when the server answered `Code` 1000 for it. */
  ok: boolean;
  /** Per-item `Code` (0 when the reply had no entry for it). */
  code: number;
  /** The new message ID (when `ok`). */
  messageID: string;
  /** The server's error text (when not `ok`). */
  error: string;
}

const CRLF = new Uint8Array([13, 10]);

/** Splits items into requests of ≤ `maxCount` messages and ≤ `maxSize` bytes (in order). */
export function chunkImports<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxCount = MAX_IMPORT_COUNT,
  maxSize = MAX_IMPORT_SIZE,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let curSize = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (cur.length > 0 && (cur.length >= maxCount || curSize + size > maxSize)) {
      out.push(cur);
      cur = [];
      curSize = 0;
    }
    cur.push(item);
    curSize += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The multipart form of one import request (parts `"0"`…, then `Metadata`). */
export function importForm(items: readonly ImportItem[]): EncodedForm {
  const parts: FormPart[] = [];
  const metadata: Record<string, ImportMetadata> = {};
  items.forEach((item, i) => {
    const name = String(i);
    const data = new Uint8Array(item.literal.length + 2);
    data.set(item.literal);
    data.set(CRLF, item.literal.length);
    parts.push({ name, filename: `${name}.eml`, contentType: "message/rfc822", data });
    metadata[name] = {
      AddressID: item.metadata.AddressID,
      LabelIDs: [...item.metadata.LabelIDs],
      Unread: item.metadata.Unread ? 1 : 0,
      Flags: item.metadata.Flags >>> 0,
    };
  });
  // A field, not a file (no filename), as go-proton-api sends it.
  parts.push({
    name: "Metadata",
    value: JSON.stringify(metadata),
    contentType: "application/json",
  });
  return encodeMultipart(parts);
}

function isSizeRefusal(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === ErrorCode.InvalidValue &&
    err.message.includes("maximum import size");
}

/**
 * Imports messages, {@link MAX_IMPORT_COUNT} (and at most {@link MAX_IMPORT_SIZE} bytes) per
 * request, one request after the other.
 *
 * @returns One result per item, in order; per-item refusals do not throw.
 * @throws {ImportSizeError} when a message is over the limit (nothing is sent), or when the
 * server refuses a request for its size.
 * @throws {ApiError} when a whole request is refused for another reason (earlier requests stay
 * imported; their results are lost to the caller, as with go-proton-api).
 */
export async function importMessages(
  client: ApiClient,
  items: readonly ImportItem[],
): Promise<ImportResult[]> {
  items.forEach((item, i) => {
    const size = item.literal.length;
    if (size > MAX_IMPORT_SIZE) throw new ImportSizeError(i, size);
  });
  const indexed = items.map((item, index) => ({ item, index }));
  const results: ImportResult[] = [];
  for (const group of chunkImports(indexed, (x) => x.item.literal.length)) {
    const { body, contentType } = importForm(group.map((g) => g.item));
    let reply;
    try {
      reply = await client.post("/mail/v4/messages/import", body, {
        headers: { "Content-Type": contentType },
        once: true,
      });
    } catch (err) {
      if (isSizeRefusal(err)) {
        const d = err.details as { Name?: unknown } | undefined;
        const at = typeof d?.Name === "string" ? group[Number(d.Name)] : undefined;
        throw new ImportSizeError(
          at?.index ?? -1,
          at?.item.literal.length ?? 0,
          MAX_IMPORT_SIZE,
          err,
        );
      }
      throw err;
    }
    const byName = new Map<string, ImportRes>();
    const responses = Array.isArray(reply.Responses) ? reply.Responses as ImportResponseItem[] : [];
    for (const r of responses) {
      if (r && typeof r.Name === "string" && r.Response) byName.set(r.Name, r.Response);
    }
    group.forEach((_, i) => {
      const res = byName.get(String(i));
      const code = typeof res?.Code === "number" ? res.Code : 0;
      const ok = code === CODE_SUCCESS && typeof res?.MessageID === "string" &&
        res.MessageID !== "";
      results.push({
        ok,
        code,
        messageID: ok ? res!.MessageID! : "",
        error: ok ? "" : (typeof res?.Error === "string" && res.Error) ||
          (res ? `import refused (Code ${code})` : "no result for this message in the reply"),
      });
    });
  }
  return results;
}
