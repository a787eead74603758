/**
 * The IMAP wire codec: pure byte-level reading and writing, no I/O and no imports from the rest of
 * the program (ARCHITECTURE.md layering).
 *
 * - {@link Reader} — incremental command reader (literals, LITERAL+, limits, FETCH sections,
 *   streamed APPEND data, TLS ClientHello detection, raw lines for AUTHENTICATE/IDLE).
 * - {@link Decoder} — expect-style grammar helpers over a command's tokens, sticky first error.
 * - {@link Encoder} — fluent response writer choosing atom/quoted/literal, streaming literals.
 * - {@link SequenceSet}, {@link compactUidSet} — sequence sets and UID sets.
 * - {@link encodeMailboxName}, {@link decodeMailboxName} — modified UTF-7.
 * - {@link parseDateTime}, {@link formatDateTime}, {@link parseDate} — IMAP dates.
 *
 * A connection loop, in outline:
 *
 * ```ts ignore
 * const reader = new Reader({ limits: { maxAppendSize: APPEND_LIMIT } });
 * for await (const chunk of conn.readable) {
 *   reader.feed(chunk);
 *   for (let ev = reader.next(); ev.kind !== "need-more"; ev = reader.next()) {
 *     if (ev.kind === "continue") await write("+ Ready for literal data\r\n");
 *     else if (ev.kind === "command") await dispatch(ev); // new Decoder(ev.args) …
 *     else if (ev.kind === "error") await write(`${ev.tag ?? "*"} ${ev.status} [${ev.code}] ${ev.message}\r\n`);
 *     else if (ev.kind === "tls-on-plaintext") return close("client speaks TLS on a plaintext port");
 *   }
 * }
 * ```
 *
 * @module
 */
export {
  type CommandEvent,
  type ContinueEvent,
  DEFAULT_READER_LIMITS,
  type LiteralStartEvent,
  Reader,
  type ReaderErrorCode,
  type ReaderErrorEvent,
  type ReaderEvent,
  type ReaderLimits,
  type ReaderOptions,
} from "./reader.ts";
export {
  type AtomToken,
  formatTokens,
  type ListToken,
  type LiteralToken,
  type NilToken,
  type NumberToken,
  type QuotedToken,
  type SectionToken,
  type Token,
  type TokenKind,
  tokenText,
} from "./token.ts";
export { DecodeError, Decoder, type DecoderOptions, isAtom } from "./decoder.ts";
export {
  type ByteSink,
  CollectingSink,
  EncodeError,
  Encoder,
  type EncoderOptions,
} from "./encoder.ts";
export {
  compactUidSet,
  MAX_SEQ_NUMBER,
  type SeqRange,
  SequenceSet,
  SequenceSetError,
  STAR,
} from "./sequence_set.ts";
export { decodeMailboxName, encodeMailboxName, isValidMailboxName, Utf7Error } from "./utf7.ts";
export {
  compareImapDates,
  DateTimeError,
  formatDate,
  formatDateTime,
  type ImapDate,
  imapDateOf,
  parseDate,
  parseDateTime,
  startOfImapDate,
} from "./date_time.ts";
