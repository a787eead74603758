/**
 * The parts `bridge serve` plugs together that live outside `src/cli`, in one place: the account
 * connector (IMAP's view of an account), the IMAP server, and the SMTP send pipeline. Each is one
 * entry of {@link SERVE_PARTS}; an entry that is `undefined` is a part this build does not have
 * yet, and serve then says so loudly (a warning on standard error, `warnings` and an
 * `unavailable` listener in `bridge status`) instead of pretending to serve it.
 *
 * The types here are what serve hands each part; they follow the parts' own option types.
 *
 * @module
 */
import type { ApiClient, UnlockedAccount } from "../api/mod.ts";
import type { MailAccount } from "../connector/account.ts";
import type { SentMessageLookup } from "../connector/send_recorder.ts";
import type { UpdateBus } from "../connector/update_bus.ts";
import type { LiteralCache, Store } from "../store/mod.ts";
import type { MessageFetcher } from "../sync/event_apply.ts";
import type { SubmissionHandler } from "../smtp/mod.ts";
import type { SendRecorder } from "../connector/send_recorder.ts";
import { createSubmissionHandler } from "../smtp/send_pipeline.ts";
import { createAccountConnector } from "../connector/account_connector.ts";
import type { SerialQueue } from "../connector/serial_queue.ts";
import type { ReadBacks } from "../connector/read_backs.ts";
import { startImapServer } from "../imap/server.ts";
import { VERSION } from "./version.ts";
import type { SendingAccount } from "../smtp/sending_account.ts";

/** What an account runtime has once the account is unlocked and its index is open. */
export interface AccountParts {
  /** The account's key on the update bus: the Proton user ID. */
  id: string;
  /** The primary address. */
  primaryEmail: string;
  store: Store;
  bus: UpdateBus;
  client: ApiClient;
  unlocked: UnlockedAccount;
  cache: LiteralCache;
  /** Downloads and builds one message (the event loop's fetcher). */
  fetcher: MessageFetcher;
  /** `mailboxes.show_all_mail`. */
  showAllMail: boolean;
  /** `accounts."<email>".address_mode`. */
  addressMode: "combined" | "split";
  /** The send recorder's lookup for APPEND to Sent. */
  sentLookup: SentMessageLookup;
  /** Log sink (no secrets, no contents). */
  log: (message: string) => void;
  /** The account's change queue, shared by the connector and the event loop's commits. */
  queue: SerialQueue;
  /** The account's read-backs, shared by the connector and the event loop. */
  readBacks: ReadBacks;
}

/** What the IMAP server needs from serve (mirrors `startSmtpServer`'s options). */
export interface ImapStartOptions {
  authenticator: { authenticate(username: string, password: string): Promise<MailAccount | null> };
  hostname: string;
  port: number;
  security: "starttls" | "ssl" | "none";
  tls?: { certPem: string; keyPem: string };
  allowPlainAuth?: boolean;
  log?: (message: string) => void;
}

/** A running IMAP server. */
export interface ImapListener {
  readonly hostname: string;
  readonly port: number;
  readonly security: "starttls" | "ssl" | "none";
  readonly connections: number;
  close(): Promise<void>;
  /** Ends the sessions of one account with `* BYE text` (see `ImapServer.endSessions`). */
  endSessions(accountId: string, text: string): Promise<number>;
}

/** What the send pipeline needs from serve. */
export interface SubmissionOptions {
  /** Shared with the connectors (APPEND to Sent) and configured from `smtp_send`. */
  recorder: SendRecorder;
  log: (message: string) => void;
}

/** The parts; `undefined` means "not in this build yet". */
export interface ServeParts {
  /** Builds the IMAP view of an account. */
  connector?: (parts: AccountParts) => MailAccount | Promise<MailAccount>;
  /** Starts the IMAP server. */
  imap?: (options: ImapStartOptions) => Promise<ImapListener>;
  /** Builds the SMTP submission handler (the send pipeline). */
  submission?: (options: SubmissionOptions) => SubmissionHandler<SendingAccount>;
}

// ---------------------------------------------------------------------------------------------
// WIRING POINTS. Each line below names one part; a part set to `undefined` makes serve run
// without it and say so. (Connector: src/connector/account_connector.ts; IMAP:
// src/imap/server.ts; send pipeline: src/smtp/send_pipeline.ts.)
// ---------------------------------------------------------------------------------------------

/** The parts of this build. */
export const SERVE_PARTS: ServeParts = {
  connector: (p) =>
    createAccountConnector({
      id: p.id,
      primaryEmail: p.primaryEmail,
      store: p.store,
      bus: p.bus,
      client: p.client,
      keys: p.unlocked,
      literals: p.cache,
      fetcher: p.fetcher,
      showAllMail: p.showAllMail,
      sentLookup: p.sentLookup,
      log: p.log,
      queue: p.queue,
      readBacks: p.readBacks,
    }),
  imap: (o) => startImapServer({ ...o, identity: { name: "bridge", version: VERSION } }),
  submission: (o) => createSubmissionHandler({ recorder: o.recorder, log: o.log }),
};

/** Human names of the missing parts, for warnings. */
export function missingParts(parts: ServeParts): string[] {
  const out: string[] = [];
  if (!parts.connector) out.push("the account connector (src/connector/account_connector.ts)");
  if (!parts.imap) out.push("the IMAP server (src/imap/server.ts)");
  if (!parts.submission) out.push("the SMTP send pipeline (src/smtp/send_pipeline.ts)");
  return out;
}
