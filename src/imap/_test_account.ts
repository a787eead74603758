/**
 * Test double for IMAP tests: a {@link MailAccount} that keeps everything local (an in-memory
 * store, literals in a map, no API) with the mailbox layout of a Proton account, and a
 * {@link FakeSession} that runs command handlers and records what they wrote.
 *
 * Mutations follow the connector's rules closely enough for command tests (COPY adds, MOVE moves,
 * EXPUNGE removes \Deleted, APPEND stores) and publish the same updates on the bus with `origin`.
 * End-to-end behaviour against the API is tested with the real connector in `tests/`.
 *
 * @module
 */
import {
  type AppendRequest,
  type AppendResult,
  type CopyResult,
  type MailAccount,
  MailboxOperationError,
  type StorageUsage,
} from "../connector/account.ts";
import { UpdateBus } from "../connector/update_bus.ts";
import {
  body as bodyOf,
  bodyStructure,
  bytesToBinary,
  envelopeOf,
  parseMessage,
  serializeEnvelope,
} from "../mime/mod.ts";
import {
  type FlagChange,
  type FlagUpdate,
  type InternalMessageId,
  type Mailbox,
  type MailboxId,
  MessageFlag,
  type RemoteLabelId,
  Store,
  type Uid,
} from "../store/mod.ts";
import type {
  CommandContext,
  CommandResult,
  CommandSpec,
  SessionApi,
  SessionState,
} from "./session/context.ts";
import { MailboxView } from "./state/mailbox_view.ts";
import { CollectingSink, Decoder, Encoder, Reader } from "./wire/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Store flag bits of IMAP system flags (keywords are returned separately). */
export function flagBits(flags: readonly string[]): { bits: number; keywords: string[] } {
  let bits = 0;
  const keywords: string[] = [];
  for (const f of flags) {
    switch (f.toLowerCase()) {
      case "\\seen":
        bits |= MessageFlag.Seen;
        break;
      case "\\flagged":
        bits |= MessageFlag.Flagged;
        break;
      case "\\answered":
        bits |= MessageFlag.Answered;
        break;
      case "\\draft":
        bits |= MessageFlag.Draft;
        break;
      case "$forwarded":
      case "forwarded":
        bits |= MessageFlag.Forwarded;
        break;
      case "\\deleted":
        break;
      default:
        keywords.push(f);
    }
  }
  return { bits, keywords };
}

/** A local-only account over an in-memory store. */
export class LocalAccount implements MailAccount {
  readonly id = "test-account";
  readonly primaryEmail = "user@example.test";
  readonly store: Store;
  readonly bus = new UpdateBus({ log: () => {} });
  readonly literals = new Map<InternalMessageId, Uint8Array>();
  /** What {@link storageUsage} reports (GETQUOTA); `undefined`: not known. */
  storage: StorageUsage | undefined;
  #remote = 0;

  constructor() {
    this.store = Store.open(":memory:");
    const sys = (name: string, remoteId: string, attributes: string[] = []) =>
      this.store.mailboxes.create({
        name,
        kind: "system",
        remoteId: remoteId as RemoteLabelId,
        attributes: ["\\Noinferiors", ...attributes],
      });
    sys("INBOX", "0");
    sys("Drafts", "8", ["\\Drafts"]);
    sys("Sent", "7", ["\\Sent"]);
    sys("Starred", "10", ["\\Flagged"]);
    sys("Archive", "6", ["\\Archive"]);
    sys("Spam", "4", ["\\Junk"]);
    sys("Trash", "3", ["\\Trash"]);
    sys("All Mail", "5", ["\\All"]);
    this.store.mailboxes.create({
      name: "Folders",
      kind: "placeholder",
      attributes: ["\\Noselect"],
    });
    this.store.mailboxes.create({
      name: "Labels",
      kind: "placeholder",
      attributes: ["\\Noselect"],
    });
  }

  /** Closes the store. */
  close(): void {
    this.bus.close();
    this.store.close();
  }

  /** Adds a message (RFC 822 text, CRLF added if missing) to mailboxes by name; returns UIDs. */
  add(
    literal: string | Uint8Array,
    mailboxes: string[],
    options: { flags?: string[]; date?: number } = {},
  ): Uid[] {
    const bytes = typeof literal === "string"
      ? enc.encode(literal.replace(/\r?\n/g, "\r\n"))
      : literal;
    const root = parseMessage(bytes);
    const { bits, keywords } = flagBits(options.flags ?? []);
    const id = this.store.messages.insert({
      remoteId: `remote-${++this.#remote}` as never,
      addressId: null,
      internalDate: options.date ?? 1_700_000_000 + this.#remote * 60,
      size: bytes.length,
      flags: bits,
      keywords,
      envelope: bytesToBinary(serializeEnvelope(envelopeOf(root.header))),
      bodyStructure: bytesToBinary(bodyStructure(root)),
      body: bytesToBinary(bodyOf(root)),
      header: bytes.slice(root.headerBytes[0], root.headerBytes[1]),
    });
    this.literals.set(id, bytes);
    const uids: Uid[] = [];
    for (const name of mailboxes) {
      const box = this.mailboxByName(name);
      if (!box) throw new Error(`no mailbox ${name}`);
      const [uid] = this.store.membership.add(box.id, [id]);
      uids.push(uid);
      this.bus.publish(this.id, { kind: "MessagesCreated", mailbox: box.id, uids: [uid] });
    }
    return uids;
  }

  visibleMailboxes(): Mailbox[] {
    return this.store.mailboxes.list();
  }

  mailboxByName(name: string): Mailbox | undefined {
    if (name.toUpperCase() === "INBOX") name = "INBOX";
    return this.store.mailboxes.byName(name);
  }

  mailboxFlags(mailbox: Mailbox): { flags: string[]; permanentFlags: string[] } {
    const flags = mailbox.remoteId === "5"
      ? ["\\Seen", "\\Flagged"]
      : ["\\Seen", "\\Flagged", "\\Deleted", "$Forwarded", "Forwarded"];
    return { flags, permanentFlags: flags };
  }

  literal(message: InternalMessageId): Promise<Uint8Array> {
    const bytes = this.literals.get(message);
    if (!bytes) {
      return Promise.reject(new MailboxOperationError("UNAVAILABLE", "message not available"));
    }
    return Promise.resolve(bytes);
  }

  storeFlags(
    origin: string,
    mailbox: MailboxId,
    uids: readonly Uid[],
    // `unchangedSince` is left to the command's own check here (no `modified`).
    change: { mode: FlagChange["mode"]; flags: readonly string[]; unchangedSince?: bigint },
  ): Promise<{ updates: FlagUpdate[]; deletedChanged: Uid[]; modified?: Uid[] }> {
    const { bits, keywords } = flagBits(change.flags);
    const wantsDeleted = change.flags.some((f) => f.toLowerCase() === "\\deleted");
    const ids = uids.map((u) => this.store.membership.messageAt(mailbox, u)).filter((x) =>
      x !== undefined
    ) as InternalMessageId[];
    const updates = this.store.messages.setFlags(ids, { mode: change.mode, flags: bits, keywords });
    let deletedChanged: Uid[] = [];
    if (change.mode === "replace") {
      deletedChanged = this.store.membership.setDeleted(mailbox, uids, wantsDeleted);
    } else if (wantsDeleted) {
      deletedChanged = this.store.membership.setDeleted(mailbox, uids, change.mode === "add");
    }
    const changes = updates.map((u) => ({ ...u }));
    for (const uid of deletedChanged) {
      const messageId = this.store.membership.messageAt(mailbox, uid)!;
      if (changes.some((c) => c.messageId === messageId)) continue;
      const m = this.store.messages.get(messageId)!;
      changes.push({
        messageId,
        flags: m.flags,
        keywords: m.keywords,
        modseq: m.modseq,
        memberships: [{ mailbox, uid }],
      });
    }
    if (changes.length > 0) this.bus.publish(this.id, { kind: "FlagsChanged", changes }, origin);
    return Promise.resolve({ updates, deletedChanged });
  }

  #copy(origin: string, source: MailboxId, uids: readonly Uid[], destination: MailboxId) {
    const dest = this.store.mailboxes.require(destination);
    const sourceUids: Uid[] = [];
    const destUids: Uid[] = [];
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const id = this.store.membership.messageAt(source, uid);
      if (id === undefined) continue;
      const [d] = this.store.membership.add(destination, [id]);
      sourceUids.push(uid);
      destUids.push(d);
    }
    if (destUids.length > 0) {
      this.bus.publish(this.id, {
        kind: "MessagesCreated",
        mailbox: destination,
        uids: [...destUids].sort((a, b) => a - b),
      }, origin);
    }
    return { uidValidity: dest.uidValidity, sourceUids, destUids };
  }

  copy(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    return Promise.resolve({ ...this.#copy(origin, source, uids, destination), expunged: [] });
  }

  move(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    const r = this.#copy(origin, source, uids, destination);
    const expunged = this.store.membership.remove(source, r.sourceUids).map((x) => x.uid);
    if (expunged.length > 0) {
      this.bus.publish(
        this.id,
        { kind: "MessagesExpunged", mailbox: source, uids: expunged },
        origin,
      );
    }
    return Promise.resolve({ ...r, expunged });
  }

  expunge(origin: string, mailbox: MailboxId, uids?: readonly Uid[]): Promise<Uid[]> {
    const ranges = uids?.map((u) => ({ first: u, last: u }));
    const gone = this.store.membership.expungeDeleted(mailbox, ranges);
    if (gone.length > 0) {
      this.bus.publish(this.id, { kind: "MessagesExpunged", mailbox, uids: gone }, origin);
    }
    return Promise.resolve(gone);
  }

  append(origin: string, mailbox: MailboxId, request: AppendRequest): Promise<AppendResult> {
    const box = this.store.mailboxes.require(mailbox);
    const [uid] = this.add(request.literal, [box.name], {
      flags: request.flags,
      date: request.internalDate,
    });
    void origin;
    return Promise.resolve({ uidValidity: box.uidValidity, uid, mailbox });
  }

  createMailbox(origin: string, name: string): Promise<Mailbox> {
    if (!name.startsWith("Folders/") && !name.startsWith("Labels/")) {
      return Promise.reject(
        new MailboxOperationError(
          "CANNOT",
          "Mailboxes can only be created under Folders/ or Labels/",
        ),
      );
    }
    if (this.store.mailboxes.byName(name)) {
      return Promise.reject(new MailboxOperationError("ALREADYEXISTS", "Mailbox already exists"));
    }
    const box = this.store.mailboxes.create({
      name,
      kind: name.startsWith("Folders/") ? "folder" : "label",
      remoteId: `label-${name}` as RemoteLabelId,
    });
    this.bus.publish(this.id, {
      kind: "MailboxCreated",
      mailbox: box.id,
      name,
      remoteId: box.remoteId,
      attributes: [],
    }, origin);
    return Promise.resolve(box);
  }

  renameMailbox(origin: string, mailbox: MailboxId, newName: string): Promise<void> {
    for (const r of this.store.mailboxes.rename(mailbox, newName)) {
      this.bus.publish(this.id, {
        kind: "MailboxRenamed",
        mailbox: r.id,
        oldName: r.oldName,
        newName: r.newName,
      }, origin);
    }
    return Promise.resolve();
  }

  deleteMailbox(origin: string, mailbox: MailboxId): Promise<void> {
    const box = this.store.mailboxes.require(mailbox);
    this.store.mailboxes.delete(mailbox);
    this.bus.publish(this.id, { kind: "MailboxDeleted", mailbox, name: box.name }, origin);
    return Promise.resolve();
  }

  storageUsage(): StorageUsage | undefined {
    return this.storage;
  }

  /** As the connector: only Trash and Drafts delete for good on EXPUNGE. */
  expungeFreesStorage(mailbox: Mailbox): boolean {
    return mailbox.remoteId === "3" || mailbox.remoteId === "8";
  }

  setSubscribed(mailbox: MailboxId, subscribed: boolean): void {
    this.store.mailboxes.update(mailbox, { subscribed });
  }
}

/**
 * A {@link SessionApi} without a connection: runs one handler at a time against a
 * {@link LocalAccount} and records the untagged responses as text.
 */
export class FakeSession implements SessionApi {
  readonly id: string;
  state: SessionState = "authenticated";
  secure = true;
  account: MailAccount | undefined;
  view: MailboxView | undefined;
  enabled = new Set<string>();
  appendLimit = 50 * 1024 * 1024;
  /** Everything written, as text (CRLF kept). */
  output = "";
  /** Lines {@link readLine} hands out, in order. */
  input: string[] = [];
  loggedOut = false;
  plainAuthAllowed = true;
  idleLimits = { keepaliveMs: 60_000, maxIdleMs: 600_000 };
  ending = false;

  constructor(account: LocalAccount, id = "session-1") {
    this.account = account;
    this.id = id;
    account.bus.subscribe(account.id, {
      name: id,
      onDeliver: (u) => this.view?.enqueue(u),
    });
  }

  capabilities(): string[] {
    return ["IMAP4rev1", "CONDSTORE", "ESEARCH", "UIDPLUS", "MOVE"];
  }

  respond(build: (e: Encoder) => void): Promise<void> {
    const sink = new CollectingSink();
    const e = new Encoder(sink);
    build(e);
    e.flush();
    this.output += dec.decode(sink.toBytes());
    return Promise.resolve();
  }

  write(bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
    for (const b of bytes instanceof Uint8Array ? [bytes] : bytes) this.output += dec.decode(b);
    return Promise.resolve();
  }

  readLine(): Promise<string | undefined> {
    return Promise.resolve(this.input.shift());
  }

  waitForInputOrUpdates(): Promise<"input" | "updates"> {
    return Promise.resolve("input");
  }

  login(username: string, password: string): Promise<"ok" | "failed" | "locked" | "unavailable"> {
    if (username === this.account?.primaryEmail && password === "secret") {
      this.authenticated(this.account);
      return Promise.resolve("ok");
    }
    return Promise.resolve("failed");
  }

  authenticated(account: MailAccount): void {
    this.account = account;
    this.state = "authenticated";
  }

  select(view: MailboxView): void {
    this.view = view;
    this.state = "selected";
  }

  unselect(): void {
    this.view = undefined;
    this.state = "authenticated";
  }

  logout(): void {
    this.loggedOut = true;
  }

  enable(extension: string): void {
    this.enabled.add(extension.toUpperCase());
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error("no TLS in the fake session"));
  }

  async flushUpdates(expunge: boolean): Promise<void> {
    const v = this.view;
    if (!v) return;
    await this.respond((e) =>
      v.flush(e, {
        expunge,
        modseq: this.enabled.has("CONDSTORE"),
        vanished: this.enabled.has("QRESYNC"),
      })
    );
  }

  log(): void {}

  /** Selects `name` directly (without the SELECT command). */
  selectByName(name: string, readOnly = false): MailboxView {
    const box = this.account!.mailboxByName(name);
    if (!box) throw new Error(`no mailbox ${name}`);
    const view = new MailboxView({ store: this.account!.store, mailbox: box, readOnly });
    this.select(view);
    return view;
  }

  /**
   * Runs `spec` for one command line (e.g. `a1 UID FETCH 1:* (FLAGS)`; literals as `{n}\r\n…`),
   * then the flush its spec asks for; returns the result and the output of this command. Bytes
   * are sent as they are (8-bit strings in another charset), with CRLF added.
   */
  async run(
    spec: CommandSpec,
    line: string | Uint8Array,
  ): Promise<{ result: CommandResult; output: string }> {
    const reader = new Reader({ detectTls: false });
    if (typeof line === "string") {
      reader.feed(enc.encode(line.endsWith("\r\n") ? line : line + "\r\n"));
    } else {
      reader.feed(line);
      reader.feed(enc.encode("\r\n"));
    }
    let ev = reader.next();
    while (ev.kind === "continue") ev = reader.next();
    if (ev.kind !== "command") throw new Error(`not a command: ${JSON.stringify(ev)}`);
    const before = this.output.length;
    const uid = ev.name.startsWith("UID ");
    const ctx: CommandContext = {
      tag: ev.tag,
      name: ev.name,
      uid,
      args: new Decoder(ev.args),
      session: this,
    };
    const result = await spec.handle(ctx);
    const flush = spec.flush ?? "no-expunge";
    if (flush !== "none" && this.view) {
      await this.flushUpdates(flush === "all" || uid);
    }
    return { result, output: this.output.slice(before) };
  }
}
