/**
 * ENVELOPE (RFC 3501 §7.4.2): the structured value computed from a header, and its exact IMAP
 * wire form.
 *
 * Values are the raw header values (binary strings): encoded words are not decoded, as RFC 3501
 * requires. Folding line breaks are removed; the subject and display names are sent the way
 * Dovecot sends them (whitespace runs collapsed, literal when they hold 8-bit bytes, quotes or
 * control characters), see {@link imapStringForHumans}. Sender and Reply-To default to From when
 * absent or empty.
 *
 * @module
 */
import { ByteWriter } from "./_bytes.ts";
import { type EnvelopeAddress, parseAddressList } from "./address.ts";
import type { Header } from "./header.ts";
import { imapNStringBinary, imapStringForHumansBinary } from "./imap_string.ts";

/** ENVELOPE fields; strings are raw header values (binary strings). */
export interface Envelope {
  /** `Date`, or null. */
  readonly date: string | null;
  /**
   * `Subject`, or null. Folding line breaks are kept: Dovecot sends a folded subject as a literal
   * with whitespace collapsed, and so does {@link serializeEnvelope}.
   */
  readonly subject: string | null;
  /** `From` addresses, or null. */
  readonly from: readonly EnvelopeAddress[] | null;
  /** `Sender` (defaults to From). */
  readonly sender: readonly EnvelopeAddress[] | null;
  /** `Reply-To` (defaults to From). */
  readonly replyTo: readonly EnvelopeAddress[] | null;
  /** `To`, or null. */
  readonly to: readonly EnvelopeAddress[] | null;
  /** `Cc`, or null. */
  readonly cc: readonly EnvelopeAddress[] | null;
  /** `Bcc`, or null. */
  readonly bcc: readonly EnvelopeAddress[] | null;
  /** `In-Reply-To`, or null. */
  readonly inReplyTo: string | null;
  /** `Message-ID`, or null. */
  readonly messageId: string | null;
}

function addresses(header: Header, name: string): EnvelopeAddress[] | null {
  const v = header.get(name);
  if (v === undefined) return null;
  const list = parseAddressList(v);
  return list.length ? list : null;
}

/** Computes the ENVELOPE of a message (or encapsulated message) header. */
export function envelopeOf(header: Header): Envelope {
  const from = addresses(header, "from");
  return {
    date: header.get("date") ?? null,
    subject: header.getFolded("subject") ?? null,
    from,
    sender: addresses(header, "sender") ?? from,
    replyTo: addresses(header, "reply-to") ?? from,
    to: addresses(header, "to"),
    cc: addresses(header, "cc"),
    bcc: addresses(header, "bcc"),
    inReplyTo: header.get("in-reply-to") ?? null,
    messageId: header.get("message-id") ?? null,
  };
}

function writeAddresses(w: ByteWriter, list: readonly EnvelopeAddress[] | null): void {
  if (!list) {
    w.binary("NIL");
    return;
  }
  w.binary("(");
  for (const a of list) {
    w.binary(
      `(${imapStringForHumansBinary(a.name)} ${imapNStringBinary(a.adl)} ` +
        `${imapNStringBinary(a.mailbox)} ${imapNStringBinary(a.host)})`,
    );
  }
  w.binary(")");
}

/** Writes an ENVELOPE's wire form into `w`. */
export function writeEnvelope(w: ByteWriter, env: Envelope): void {
  w.binary(`(${imapNStringBinary(env.date)} ${imapStringForHumansBinary(env.subject)} `);
  for (const list of [env.from, env.sender, env.replyTo, env.to, env.cc, env.bcc]) {
    writeAddresses(w, list);
    w.binary(" ");
  }
  w.binary(`${imapNStringBinary(env.inReplyTo)} ${imapNStringBinary(env.messageId)})`);
}

/** The ENVELOPE wire form (`(date subject from … message-id)`), as bytes. */
export function serializeEnvelope(env: Envelope): Uint8Array {
  const w = new ByteWriter();
  writeEnvelope(w, env);
  return w.finish();
}
