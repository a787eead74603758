/**
 * `src/mime`: RFC 5322 / MIME parsing and building on plain bytes (no API or crypto imports).
 *
 * - Building what IMAP clients see from a decrypted API message: {@link buildMessage},
 *   {@link buildPlaceholder}.
 * - Parsing any message robustly into a tree over its bytes: {@link parseMessage}.
 * - What FETCH needs from that tree: {@link serializeEnvelope} / {@link envelopeOf},
 *   {@link bodyStructure}, {@link body}, {@link sectionBytes}; all in Dovecot's exact wire form.
 * - What SEARCH compares header keys against: {@link fieldSearchText}, {@link indexedSearchTexts}.
 * - Building blocks: headers, encoded words, parameters, addresses, dates, transfer encodings,
 *   IMAP strings.
 *
 * A typical sync step:
 *
 * ```ts
 * const literal = buildMessage(input);            // bytes stored in the literal cache
 * const root = parseMessage(literal);
 * const envelope = serializeEnvelope(envelopeOf(root.header));
 * const structure = bodyStructure(root);
 * const simple = body(root);
 * ```
 *
 * @module
 */
export {
  type Address,
  type EnvelopeAddress,
  formatAddress,
  formatAddressList,
  parseAddresses,
  parseAddressList,
} from "./address.ts";
export { baseSubject } from "./base_subject.ts";
export { body, bodyStructure, writeBodyStructure } from "./body_structure.ts";
export {
  type BuildAddress,
  type BuildAttachment,
  type BuildInput,
  buildMessage,
  buildPlaceholder,
  type DecryptionFailure,
  type HeaderFields,
  INTERNAL_ID_DOMAIN,
  type PlaceholderOptions,
} from "./build.ts";
export { formatRfc1123Z, parseRfc5322Date } from "./date.ts";
export {
  decodeCharset,
  decodeEncodedWords,
  decodeParams,
  encodeWordB,
  encodeWordQ,
} from "./encoded_word.ts";
export { MAX_DEPTH, MimePart, parseMessage, type ParseOptions } from "./entity.ts";
export { decodeEntities, htmlToText, textToHtml } from "./html_text.ts";
export { type MessageAttachment, type MessageContent, messageContent } from "./message_content.ts";
export { messageIDs, type MessageReferences, referenceFields } from "./message_references.ts";
export { newMessageId } from "./message_id.ts";
export { bytesEqual, concatBytes } from "./_bytes.ts";
export { type Envelope, envelopeOf, serializeEnvelope, writeEnvelope } from "./envelope.ts";
export {
  formatField,
  Header,
  type HeaderBlock,
  type HeaderField,
  parseHeader,
  selectHeaderFields,
  withoutHeaderFields,
} from "./header.ts";
export {
  fieldSearchText,
  headerSearchText,
  INDEXED_SEARCH_FIELDS,
  type IndexedSearchField,
  indexedSearchTexts,
  SEARCH_TEXT_SEPARATOR,
  searchFold,
} from "./header_search_text.ts";
export { imapNString, imapString, imapStringForHumans } from "./imap_string.ts";
export {
  type ContentDisposition,
  type ContentType,
  formatMediaType,
  parseContentDisposition,
  parseContentType,
  type RawParam,
} from "./params.ts";
export { findPart, parseSection, type Section, sectionBytes } from "./part_bytes.ts";
export { type SortFields, sortFields } from "./sort_fields.ts";
export { decodeQuotedPrintable, encodeQuotedPrintable } from "./quoted_printable.ts";
export { decodeTransfer, encodeBase64Lines } from "./transfer_encoding.ts";
export { binaryToBytes, binaryToText, bytesToBinary, toCrlf } from "./_bytes.ts";
