/**
 * What was just sent through SMTP, remembered for a while (proton-api.md §3.6 step 8, §5.6):
 *
 * - **Duplicate suppression.** A client that times out waiting for the reply to `DATA` often
 *   submits the same message again. Before sending, the pipeline asks {@link SendRecorder.begin};
 *   when the same account sent a message with the same {@link messageHash} to the same envelope
 *   recipients within the window (default 30 minutes, as the official bridge), the answer is
 *   "duplicate" with the remote ID of the first send and nothing is sent again. When an identical
 *   send is still in flight, `begin` waits for it (up to 90 s) first; still in flight then, the
 *   resend is answered "busy" (a temporary failure for the client to retry) rather than sent
 *   beside it. Unlike the official bridge the suppression is transparent: every suppressed send goes to the `onDuplicate` callback (a log
 *   line) and is counted in {@link SendRecorder.status} for JSON status, and it can be turned off
 *   (`enabled: false`, config `smtp_send.duplicate_suppression`).
 * - **Unconfirmed sends.** When the send request was made but its answer was lost, the message
 *   may or may not have gone out; the ticket is settled `uncertain` with the draft's ID, and an
 *   identical resend within the window (with or without suppression) gets an
 *   {@link UncertainSend} instead of a ticket: the pipeline asks the API whether that draft became
 *   a sent message before sending again, and identical resends wait for that answer. Kept in
 *   memory only: after a restart a retry is sent as a new message.
 * - **APPEND to Sent.** Many clients store their own copy in Sent after sending. The IMAP side asks
 *   {@link SendRecorder.findSent} with the appended literal; a hit names the server's sent message
 *   so no duplicate is imported. A send in flight is waited for (`waitMs`).
 *
 * The hash ignores what differs between the submitted message and a client's Sent copy (`Bcc`,
 * `Date`, received-trace fields, MIME boundaries, transfer encodings, line endings and trailing
 * whitespace) and covers what identifies the message: Subject, From, To, Cc, Reply-To,
 * In-Reply-To, Message-ID, and every leaf part's type, parameters (boundary aside), disposition and
 * decoded body.
 *
 * Nothing here keeps message contents: only hashes, recipient addresses and remote IDs, in memory.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { decodeTransfer, type MimePart, parseAddresses, parseMessage } from "../mime/mod.ts";

/** How long a send is remembered by default: 30 minutes (the official bridge's window). */
export const DEFAULT_DUPLICATE_WINDOW_MS = 30 * 60 * 1000;
/** How long `begin` waits for an identical send in flight by default (as the official bridge). */
export const DEFAULT_IN_FLIGHT_WAIT_MS = 90 * 1000;

/** A send that was not repeated, as reported to `onDuplicate`. */
export interface SuppressedSend {
  /** The account it was submitted on. */
  accountID: string;
  /** The remote ID of the message sent the first time. */
  messageID: string;
  /** When the first send completed (ms since the epoch). */
  sentAt: number;
  /** The envelope recipients (lower-cased, sorted). */
  recipients: string[];
}

/** Options of {@link SendRecorder}. */
export interface SendRecorderOptions {
  /** Suppress identical resends (default true). Sends are recorded for `findSent` either way. */
  enabled?: boolean;
  /** How long a completed send is remembered, in ms (default {@link DEFAULT_DUPLICATE_WINDOW_MS}). */
  windowMs?: number;
  /** Longest wait in `begin` for an identical send in flight (default 90 s). */
  inFlightWaitMs?: number;
  /** Called for every suppressed resend (log it; it never receives message contents). */
  onDuplicate?: (send: SuppressedSend) => void;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A send in progress: report how it ended, exactly once. */
export interface SendTicket {
  readonly kind: "send";
  /** The message was sent; `messageID` is the server's ID of the sent message. */
  sent(messageID: string): void;
  /** The send failed; an identical resend is then sent normally. */
  failed(): void;
  /**
   * The send request was made but its answer is unknown (lost, timed out, a server error): the
   * message may have gone out as draft `draftID`. An identical resend within the window is then
   * answered with an {@link UncertainSend}, so the caller can look before sending again.
   */
  uncertain(draftID: string): void;
}

/** The answer of `begin` when an identical send is still in flight after the wait. */
export interface BusySend {
  readonly kind: "busy";
}

/**
 * The answer of `begin` for a resend of a message whose earlier send was not confirmed: the
 * caller asks the API what became of `draftID`, then settles this exactly once.
 */
export interface UncertainSend {
  readonly kind: "uncertain";
  /** The draft the unconfirmed send was made from (the sent message has the same ID). */
  readonly draftID: string;
  /** How long ago the unconfirmed send ended, in ms (a young one may still be under way). */
  readonly ageMs: number;
  /** It did go out: remembered as sent (a later resend is a plain duplicate); do not send. */
  confirm(): void;
  /** It did not go out: forget it and send now (settle the ticket as usual). */
  retry(): SendTicket;
  /** It cannot be told now: keep it as it was (the resend fails and may be tried again). */
  keep(): void;
}

/** The answer of `begin` for a resend within the window: do not send again. */
export interface DuplicateSend {
  readonly kind: "duplicate";
  /** The remote ID of the message sent the first time. */
  readonly messageID: string;
  /** When the first send completed (ms since the epoch). */
  readonly sentAt: number;
}

/** Counters for JSON status. */
export interface SendRecorderStatus {
  /** Whether duplicate suppression is on. */
  enabled: boolean;
  /** The window in seconds. */
  windowSeconds: number;
  /** Sends remembered now (completed and in flight). */
  remembered: number;
  /** Sends in flight now. */
  inFlight: number;
  /** Resends suppressed since start. */
  duplicatesSuppressed: number;
}

/** A lookup the IMAP side uses on APPEND to Sent: the remote ID of a just-sent identical message. */
export type SentMessageLookup = (literal: Uint8Array) => Promise<string | undefined>;

interface Entry {
  recipients: string;
  /** `checking`: an unconfirmed send handed out for a look ({@link UncertainSend}). */
  state: "sending" | "sent" | "uncertain" | "checking";
  messageID?: string;
  /** Start time while sending, completion time once sent. */
  time: number;
  settled: Promise<void>;
  settle: () => void;
}

const enc = new TextEncoder();

/** Remembers recent sends per account; see the module text. */
export class SendRecorder {
  readonly #enabled: boolean;
  readonly #windowMs: number;
  readonly #inFlightWaitMs: number;
  readonly #onDuplicate?: (send: SuppressedSend) => void;
  readonly #now: () => number;
  /** `accountID \0 hash` → entries (one per recipient set). */
  readonly #entries = new Map<string, Entry[]>();
  #suppressed = 0;

  /** See {@link SendRecorderOptions}. */
  constructor(options: SendRecorderOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.#windowMs = Math.max(0, options.windowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
    this.#inFlightWaitMs = Math.max(0, options.inFlightWaitMs ?? DEFAULT_IN_FLIGHT_WAIT_MS);
    this.#onDuplicate = options.onDuplicate;
    this.#now = options.now ?? Date.now;
  }

  /** Whether identical resends are suppressed. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Starts a send of the message with `hash` (see {@link messageHash}) to `recipients`, and
   * resolves to what the caller must do:
   *
   * - a {@link DuplicateSend} when the same account sent it to the same recipients within the
   *   window (after waiting for an identical send in flight to end);
   * - a {@link BusySend} when an identical send is still in flight after the wait (answer a
   *   temporary failure rather than send a second copy beside it);
   * - an {@link UncertainSend} when an identical send was made but not confirmed: the caller
   *   looks what became of it; meanwhile identical sends wait for that answer, so two retries
   *   never both send;
   * - else a {@link SendTicket}, settled with `sent`, `failed` or `uncertain`.
   *
   * With `suppress: false` (or suppression off) the send is recorded (for {@link findSent}) but
   * never answered as a duplicate and never held back by an identical send in flight: a message
   * without a `Message-ID` (a cron job's alert, a monitoring script) may well be sent twice on
   * purpose, where a client retrying a send keeps its Message-ID. An unconfirmed send is looked
   * at whatever the setting: its retry is not a second message.
   */
  async begin(
    accountID: string,
    hash: string,
    recipients: readonly string[],
    options: { suppress?: boolean } = {},
  ): Promise<SendTicket | DuplicateSend | BusySend | UncertainSend> {
    const key = `${accountID}\0${hash}`;
    const rcpt = normaliseRecipients(recipients);
    const suppress = this.#enabled && options.suppress !== false;
    const deadline = this.#now() + this.#inFlightWaitMs;
    for (;;) {
      this.#prune();
      const same = (this.#entries.get(key) ?? []).filter((e) => e.recipients === rcpt);
      const done = same.filter((e) => e.state === "sent").at(-1);
      if (suppress && done) {
        this.#suppressed++;
        this.#onDuplicate?.({
          accountID,
          messageID: done.messageID!,
          sentAt: done.time,
          recipients: rcpt.split("\n"),
        });
        return { kind: "duplicate", messageID: done.messageID!, sentAt: done.time };
      }
      const busy = same.find((e) => e.state === "checking" || (suppress && e.state === "sending"));
      if (busy) {
        const left = deadline - this.#now();
        if (left <= 0) return { kind: "busy" };
        await waitFor(busy.settled, left);
        continue;
      }
      const unsure = same.filter((e) => e.state === "uncertain").at(-1);
      if (unsure) return this.#uncertain(key, unsure, accountID);
      return this.#start(key, rcpt);
    }
  }

  /** Hands out an unconfirmed send for a look; identical sends wait until it is settled. */
  #uncertain(key: string, entry: Entry, accountID: string): UncertainSend {
    const since = entry.time;
    this.#reopen(entry, "checking");
    let over = false;
    const settle = () => {
      if (over) throw new Error("an uncertain send was settled twice");
      over = true;
    };
    return {
      kind: "uncertain",
      draftID: entry.messageID!,
      ageMs: this.#now() - since,
      confirm: () => {
        settle();
        entry.state = "sent";
        entry.time = this.#now();
        this.#suppressed++;
        this.#onDuplicate?.({
          accountID,
          messageID: entry.messageID!,
          sentAt: entry.time,
          recipients: entry.recipients.split("\n"),
        });
        entry.settle();
      },
      retry: () => {
        settle();
        // The same entry becomes the new send: identical sends keep waiting for it.
        entry.state = "sending";
        entry.messageID = undefined;
        entry.time = this.#now();
        return this.#ticket(key, entry);
      },
      keep: () => {
        settle();
        entry.state = "uncertain";
        entry.time = since;
        entry.settle();
      },
    };
  }

  /** Puts `entry` in `state` with a fresh `settled` promise (others wait for it again). */
  #reopen(entry: Entry, state: Entry["state"]): void {
    entry.state = state;
    entry.settled = new Promise<void>((r) => (entry.settle = r));
  }

  #remove(key: string, entry: Entry): void {
    const now = this.#entries.get(key)?.filter((e) => e !== entry) ?? [];
    if (now.length > 0) this.#entries.set(key, now);
    else this.#entries.delete(key);
  }

  #start(key: string, recipients: string): SendTicket {
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    const entry: Entry = { recipients, state: "sending", time: this.#now(), settled, settle };
    const list = this.#entries.get(key) ?? [];
    list.push(entry);
    this.#entries.set(key, list);
    return this.#ticket(key, entry);
  }

  #ticket(key: string, entry: Entry): SendTicket {
    let over = false;
    return {
      kind: "send",
      sent: (messageID: string) => {
        if (over) return;
        over = true;
        entry.state = "sent";
        entry.messageID = messageID;
        entry.time = this.#now();
        entry.settle();
      },
      failed: () => {
        if (over) return;
        over = true;
        this.#remove(key, entry);
        entry.settle();
      },
      uncertain: (draftID: string) => {
        if (over) return;
        over = true;
        entry.state = "uncertain";
        entry.messageID = draftID;
        entry.time = this.#now();
        entry.settle();
      },
    };
  }

  /**
   * The remote ID of a message the account sent within the window whose hash equals the hash of
   * `literal` (any recipients), waiting up to `waitMs` for an identical send in flight. Undefined
   * when there is none (the caller then imports the message as usual).
   */
  async findSent(accountID: string, literal: Uint8Array, waitMs = 0): Promise<string | undefined> {
    const key = `${accountID}\0${messageHash(literal)}`;
    const deadline = this.#now() + Math.max(0, waitMs);
    for (;;) {
      this.#prune();
      const list = this.#entries.get(key) ?? [];
      const done = list.filter((e) => e.state === "sent").at(-1);
      if (done) return done.messageID;
      const sending = list.find((e) => e.state === "sending" || e.state === "checking");
      const left = deadline - this.#now();
      if (!sending || left <= 0) return undefined;
      await waitFor(sending.settled, left);
    }
  }

  /** {@link findSent} for one account as a plain function (what the IMAP APPEND code takes). */
  lookupFor(accountID: string, waitMs = 0): SentMessageLookup {
    return (literal) => this.findSent(accountID, literal, waitMs);
  }

  /** Counters for JSON status. */
  status(): SendRecorderStatus {
    this.#prune();
    let remembered = 0;
    let inFlight = 0;
    for (const list of this.#entries.values()) {
      remembered += list.length;
      inFlight += list.filter((e) => e.state === "sending" || e.state === "checking").length;
    }
    return {
      enabled: this.#enabled,
      windowSeconds: Math.round(this.#windowMs / 1000),
      remembered,
      inFlight,
      duplicatesSuppressed: this.#suppressed,
    };
  }

  /** Forgets completed (or unconfirmed) sends older than the window (sends in flight stay). */
  #prune(): void {
    const oldest = this.#now() - this.#windowMs;
    for (const [key, list] of this.#entries) {
      const keep = list.filter((e) =>
        e.state === "sending" || e.state === "checking" || e.time >= oldest
      );
      if (keep.length === 0) this.#entries.delete(key);
      else if (keep.length !== list.length) this.#entries.set(key, keep);
    }
  }
}

function normaliseRecipients(recipients: readonly string[]): string {
  return [...new Set(recipients.map((r) => r.trim().toLowerCase()))].sort().join("\n");
}

/** Resolves when `p` settles or after `ms`, whichever is first (no timer left behind). */
async function waitFor(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * The identity of a message for duplicate detection (base64 SHA-256; see the module text for what
 * it covers). Never throws: unparsable input hashes as whatever the tolerant parser makes of it.
 */
export function messageHash(literal: Uint8Array): string {
  const root = parseMessage(literal);
  const h = createHash("sha256");
  const put = (label: string, value: string) => {
    h.update(enc.encode(label));
    h.update(enc.encode(":"));
    h.update(enc.encode(value));
    h.update(new Uint8Array([0]));
  };
  const header = root.header;
  put("subject", header.getText("subject") ?? "");
  for (const name of ["from", "to", "cc", "reply-to"]) {
    const list = header.getAll(name).flatMap((v) => parseAddresses(v));
    put(name, list.map((a) => a.address.toLowerCase()).join(","));
  }
  for (const name of ["in-reply-to", "message-id"]) {
    put(name, (header.get(name) ?? "").replace(/\s+/g, ""));
  }
  for (const part of root.walk()) {
    if (part.isMultipart || part.message) continue;
    hashLeaf(part, put, h);
  }
  return h.digest("base64");
}

function hashLeaf(
  part: MimePart,
  put: (label: string, value: string) => void,
  h: ReturnType<typeof createHash>,
): void {
  const params = part.params
    .filter((p) => p.name.toLowerCase() !== "boundary")
    .map((p) => `${p.name.toLowerCase()}=${p.value}`)
    .sort();
  put("part", `${part.mimeType};${params.join(";")}`);
  put("disposition", part.disposition?.type ?? "");
  h.update(normaliseBody(decodeTransfer(part.bodyData(), part.encoding)));
  h.update(new Uint8Array([0]));
}

/** Line ends as LF, trailing spaces and tabs of every line and trailing empty lines removed. */
function normaliseBody(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  let lineStart = 0;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i] : 0x0a;
    if (b !== 0x0a) continue;
    let end = i;
    if (end > lineStart && bytes[end - 1] === 0x0d) end--;
    while (end > lineStart && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
    out.set(bytes.subarray(lineStart, end), o);
    o += end - lineStart;
    if (i < bytes.length) out[o++] = 0x0a;
    lineStart = i + 1;
  }
  while (o > 0 && out[o - 1] === 0x0a) o--;
  return out.subarray(0, o);
}
