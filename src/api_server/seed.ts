/**
 * A deterministic, realistic mailbox for demos, tests and benchmarks: the same seed gives the same
 * folders, labels, senders, subjects, bodies, attachments, locations and flags (message IDs and
 * the OpenPGP bytes differ between runs, as they would on the real service).
 *
 * What it contains, for any count large enough (the first twelve messages are a fixed showcase so
 * that even small mailboxes cover every case):
 * - folders "Work", "Work/2024" (nested) and "Receipts"; labels "Important", "Travel", "Café ☕";
 * - received mail in Inbox, Archive, Trash, Spam and the folders; sent mail; a few drafts;
 * - labels and Starred on some messages, unread mostly among recent Inbox and Spam mail,
 *   Replied/Forwarded flags on some;
 * - threads (`In-Reply-To` / `References` chains, with the user's own replies in Sent);
 * - senders with non-ASCII names, non-ASCII subjects and bodies (French, German, Russian,
 *   Chinese, Greek, emoji);
 * - plain-text and HTML bodies from a few hundred bytes to newsletters of tens of kilobytes;
 * - binary attachments with non-ASCII file names (from a small pool of blobs, each message
 *   encrypting its own copy), an inline image referenced by `cid:`, and PGP/MIME mail whose
 *   body is a whole MIME entity.
 *
 * Messages are encrypted in batches (concurrently) and stored one batch per transaction, each
 * batch appearing as one event with a Create item per message.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import type { AccountDirectory } from "./directory.ts";
import { buildMessage, type BuiltMessage, type DeliverInput } from "./deliver.ts";
import { LabelType, MessageFlag, SystemLabel } from "../api/types.ts";
import type { CreateLabelReq, EmailAddress, Label } from "../api/types.ts";

/** What {@link seedMailbox} needs from the mail backend. */
export interface SeedTarget {
  readonly accounts: AccountDirectory;
  listLabels(userID: string, type: number): Label[];
  createLabel(userID: string, req: CreateLabelReq): Label;
  insert(userID: string, built: BuiltMessage[]): string[];
}

/** Messages encrypted concurrently and stored per transaction. */
const BATCH = 64;
/** 2023-01-02T08:00:00Z: where the seeded timeline starts. */
const START = Date.UTC(2023, 0, 2, 8) / 1000;
/** The timeline spans about two years whatever the count. */
const SPAN = 2 * 365 * 86400;

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONTACTS: EmailAddress[] = [
  { Name: "Zoë Ångström", Address: "zoe.angstrom@example.org" },
  { Name: "José Müller", Address: "jose.mueller@example.de" },
  { Name: "李雷", Address: "li.lei@example.cn" },
  { Name: "Анна Петрова", Address: "anna.petrova@example.ru" },
  { Name: "Søren Kierkegaard", Address: "soren@example.dk" },
  { Name: "Émilie Dubois", Address: "emilie.dubois@example.fr" },
  { Name: "Ολυμπία Παπαδοπούλου", Address: "olympia@example.gr" },
  { Name: "Alice Example", Address: "alice@example.com" },
  { Name: "Bob O'Brien", Address: "bob.obrien@example.net" },
  { Name: "Carol, from Accounting", Address: "carol@example.com" },
  { Name: "Dave", Address: "dave@example.net" },
  { Name: "", Address: "noreply@shop.example" },
];
const SERVICES: EmailAddress[] = [
  { Name: "Example Shop", Address: "orders@shop.example" },
  { Name: "Café Olé", Address: "receipts@cafe-ole.example" },
  { Name: "Train Tickets", Address: "tickets@rail.example" },
  { Name: "Weekly Digest", Address: "digest@news.example" },
];
const SPAMMERS: EmailAddress[] = [
  { Name: "Prince of Nowhere", Address: "prince@spam.example" },
  { Name: "WINNER NOTICE", Address: "win@lottery.example" },
];

const TOPICS = [
  "Quarterly report",
  "Réunion de lundi",
  "Lunch on Friday?",
  "Ihre Bestellung",
  "Projekt Übersicht",
  "Встреча в четверг",
  "会议纪要",
  "Weekend plans 🏖️",
  "Budget 2024",
  "Σύσκεψη ομάδας",
  "Holiday photos",
  "Contract draft",
  "Server migration",
  "Naïve question about the café",
  "Invitation: team offsite",
];
const WORDS = (
  "the of and to in is that for it as with was on be by this are or from at an but not have " +
  "meeting report project update schedule budget review draft attached please thanks regards " +
  "tomorrow today week morning agenda notes decision team client invoice delivery order " +
  "café naïve résumé Grüße über Straße déjà vu façade jalapeño smörgåsbord " +
  "привет спасибо встреча 你好 谢谢 会议 γεια σας ευχαριστώ 🙂 🎉"
).split(" ");

/** A tiny valid 1×1 PNG, used as the inline image. */
const PNG_1X1 = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

interface Blob {
  Name: string;
  MIMEType: string;
  Data: Uint8Array;
}

function bytes(rand: () => number, size: number, magic: number[]): Uint8Array {
  const out = new Uint8Array(size);
  out.set(magic.slice(0, size));
  for (let i = magic.length; i < size; i += 4) {
    const v = (rand() * 4294967296) >>> 0;
    out[i] = v & 255;
    if (i + 1 < size) out[i + 1] = (v >>> 8) & 255;
    if (i + 2 < size) out[i + 2] = (v >>> 16) & 255;
    if (i + 3 < size) out[i + 3] = v >>> 24;
  }
  return out;
}

function blobPool(rand: () => number): Blob[] {
  const enc = new TextEncoder();
  const pdf = [...enc.encode("%PDF-1.4\n")];
  const jpg = [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0];
  const zip = [0x50, 0x4b, 3, 4];
  const csv = ["date,amount,currency,description"];
  for (let i = 0; i < 150; i++) {
    csv.push(`2024-0${1 + i % 9}-1${i % 10},${(rand() * 500).toFixed(2)},EUR,Position ${i} – café`);
  }
  return [
    { Name: "report.pdf", MIMEType: "application/pdf", Data: bytes(rand, 42_000, pdf) },
    { Name: "Präsentation Q3.pdf", MIMEType: "application/pdf", Data: bytes(rand, 118_000, pdf) },
    { Name: "фото_отпуск.jpg", MIMEType: "image/jpeg", Data: bytes(rand, 83_000, jpg) },
    {
      Name: "报告.docx",
      MIMEType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      Data: bytes(rand, 24_000, zip),
    },
    {
      Name: "notes.txt",
      MIMEType: "text/plain",
      Data: enc.encode("Notes — ünïcödé text attachment\n".repeat(60)),
    },
    { Name: "Auszüge 2024.csv", MIMEType: "text/csv", Data: enc.encode(csv.join("\r\n")) },
    { Name: "invoice-0042.pdf", MIMEType: "application/pdf", Data: bytes(rand, 9_500, pdf) },
    { Name: "big archive.zip", MIMEType: "application/zip", Data: bytes(rand, 1_600_000, zip) },
  ];
}

/** Folder and label paths created by the seed, by role. */
interface SeedLabels {
  work: string;
  work2024: string;
  receipts: string;
  important: string;
  travel: string;
  cafe: string;
}

function ensureLabels(target: SeedTarget, userID: string): SeedLabels {
  const find = (type: number, path: string) =>
    target.listLabels(userID, type).find((l) => l.Path === path);
  const make = (
    type: number,
    name: string,
    color: string,
    parent?: Label,
  ) => (find(type, parent ? `${parent.Path}/${name}` : name) ??
    target.createLabel(userID, {
      Name: name,
      Color: color,
      Type: type,
      ...(parent ? { ParentID: parent.ID } : {}),
    }));
  const work = make(LabelType.Folder, "Work", "#5252cc");
  return {
    work: work.ID,
    work2024: make(LabelType.Folder, "2024", "#5252cc", work).ID,
    receipts: make(LabelType.Folder, "Receipts", "#1da583").ID,
    important: make(LabelType.Label, "Important", "#dc3251").ID,
    travel: make(LabelType.Label, "Travel", "#f7b500").ID,
    cafe: make(LabelType.Label, "Café ☕", "#8c6e4f").ID,
  };
}

/** A thread that later messages reply to. */
interface Thread {
  subject: string;
  refs: string[];
  peer: EmailAddress;
  remaining: number;
  due: number;
  /** Showcase threads continue on consecutive messages. */
  fixed?: boolean;
}

/** Generates the seeded messages one by one. */
class Generator {
  #rand: () => number;
  #blobs: Blob[];
  #labels: SeedLabels;
  #self: EmailAddress;
  #seed: number;
  #count: number;
  #index = 0;
  #time = START;
  #threads: Thread[] = [];

  constructor(seed: number, count: number, labels: SeedLabels, self: EmailAddress) {
    this.#rand = prng(seed);
    this.#seed = seed;
    this.#count = count;
    this.#blobs = blobPool(prng(seed ^ 0x5eed));
    this.#labels = labels;
    this.#self = self;
  }

  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#rand() * list.length)];
  }

  #chance(p: number): boolean {
    return this.#rand() < p;
  }

  #sentence(): string {
    const n = 6 + Math.floor(this.#rand() * 14);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.#pick(WORDS));
    const s = words.join(" ");
    return s[0].toUpperCase() + s.slice(1) + ".";
  }

  #paragraphs(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const sentences: string[] = [];
      for (let j = 2 + Math.floor(this.#rand() * 4); j > 0; j--) sentences.push(this.#sentence());
      out.push(sentences.join(" "));
    }
    return out;
  }

  #body(opts: { html: boolean; paragraphs: number; greeting: string; signature: string }) {
    const paras = [opts.greeting, ...this.#paragraphs(opts.paragraphs), opts.signature];
    const Text = paras.join("\r\n\r\n");
    if (!opts.html) return { Text };
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const HTML = `<html><head><meta charset="utf-8"></head><body>\r\n` +
      paras.map((p, i) =>
        i === 1 && this.#chance(0.4)
          ? `<p><b>${esc(p)}</b> <a href="https://example.com/${i}">details</a></p>`
          : `<p>${esc(p)}</p>`
      ).join("\r\n") + `\r\n</body></html>`;
    return { Text, HTML };
  }

  #externalID(domain: string): string {
    return `seed${this.#seed}.${this.#index}.${
      Math.floor(this.#rand() * 1e9).toString(36)
    }@${domain}`;
  }

  #tick(): number {
    const avg = SPAN / Math.max(this.#count, 1);
    this.#time += Math.max(1, Math.round(avg * (0.2 + this.#rand() * 1.6)));
    return this.#time;
  }

  #attachments(n: number): DeliverInput["Attachments"] {
    const out = [];
    for (let i = 0; i < n; i++) {
      const big = this.#blobs[this.#blobs.length - 1];
      const blob = this.#chance(0.01) ? big : this.#pick(this.#blobs.slice(0, -1));
      out.push({ ...blob });
    }
    return out;
  }

  /** The next message. */
  next(): DeliverInput {
    const i = this.#index;
    const time = this.#tick();
    const input = this.#showcase(i, time) ?? this.#reply(time) ?? this.#fresh(time);
    this.#index++;
    return input;
  }

  #recent(time: number): boolean {
    return time > START + SPAN * 0.9;
  }

  #received(from: EmailAddress, subject: string, time: number, extra: Partial<DeliverInput> = {}) {
    const domain = from.Address.split("@")[1];
    const input: DeliverInput = {
      Kind: "received",
      From: from,
      Subject: subject,
      Time: time,
      ExternalID: this.#externalID(domain),
      Unread: false,
      ...this.#body({
        html: this.#chance(0.4),
        paragraphs: 1 + Math.floor(this.#rand() * 5),
        greeting: `Hi ${this.#self.Name || "there"},`,
        signature: `— ${from.Name || from.Address}`,
      }),
      ...extra,
    };
    return input;
  }

  #sent(to: EmailAddress, subject: string, time: number, extra: Partial<DeliverInput> = {}) {
    return {
      Kind: "sent" as const,
      From: this.#self,
      ToList: [to],
      Subject: subject,
      Time: time,
      ExternalID: this.#externalID(this.#self.Address.split("@")[1]),
      Unread: false,
      ...this.#body({
        html: this.#chance(0.5),
        paragraphs: 1 + Math.floor(this.#rand() * 3),
        greeting: `Hello ${to.Name || to.Address},`,
        signature: `Best,\r\n${this.#self.Name || this.#self.Address}`,
      }),
      ...extra,
    };
  }

  #startThread(subject: string, peer: EmailAddress, input: DeliverInput) {
    this.#threads.push({
      subject,
      refs: [`<${input.ExternalID}>`],
      peer,
      remaining: 1 + Math.floor(this.#rand() * 4),
      due: this.#index + 1 + Math.floor(this.#rand() * 12),
    });
  }

  /** A follow-up in a thread whose turn has come, alternating between the peer and the user. */
  #reply(time: number): DeliverInput | undefined {
    const at = this.#threads.findIndex((t) => t.due <= this.#index);
    if (at < 0) return undefined;
    const t = this.#threads[at];
    const mine = t.refs.length % 2 === 1;
    const subject = `Re: ${t.subject}`;
    const headers = { "In-Reply-To": t.refs[t.refs.length - 1], References: t.refs.join(" ") };
    const input = mine
      ? this.#sent(t.peer, subject, time, { Headers: headers })
      : this.#received(t.peer, subject, time, {
        Headers: headers,
        Unread: this.#recent(time) && this.#chance(0.6),
      });
    t.refs = [...t.refs.slice(-5), `<${input.ExternalID}>`];
    t.remaining--;
    t.due = this.#index + 1 + (t.fixed ? 0 : Math.floor(this.#rand() * 12));
    if (t.remaining <= 0) this.#threads.splice(at, 1);
    return input;
  }

  #fresh(time: number): DeliverInput {
    const r = this.#rand();
    const L = this.#labels;
    const labels: string[] = [];
    if (this.#chance(0.08)) labels.push(L.important);
    if (this.#chance(0.04)) labels.push(L.travel);
    if (this.#chance(0.02)) labels.push(L.cafe);
    if (this.#chance(0.05)) labels.push(SystemLabel.Starred);
    let input: DeliverInput;
    if (r < 0.15) {
      const to = this.#pick(CONTACTS);
      input = this.#sent(to, this.#pick(TOPICS), time);
      if (this.#chance(0.05)) labels.unshift(SystemLabel.Trash);
      if (this.#chance(0.3)) this.#startThread(input.Subject, to, input);
    } else if (r < 0.16) {
      input = {
        Kind: "draft",
        From: this.#self,
        ToList: this.#chance(0.7) ? [this.#pick(CONTACTS)] : [],
        Subject: this.#chance(0.8) ? this.#pick(TOPICS) : "",
        Time: time,
        ...this.#body({ html: true, paragraphs: 1, greeting: "Draft:", signature: "" }),
      };
    } else if (r < 0.19) {
      input = this.#received(this.#pick(SPAMMERS), "You have WON 1.000.000 €!!! 🎉", time, {
        Unread: this.#chance(0.5),
      });
      labels.length = 0;
      labels.push(SystemLabel.Spam);
    } else if (r < 0.26) {
      const shop = this.#pick(SERVICES);
      input = this.#received(shop, `Ihre Bestellung #${1000 + this.#index} — receipt`, time, {
        Attachments: this.#chance(0.5) ? [{ ...this.#blobs[6] }] : undefined,
      });
      labels.unshift(this.#labels.receipts);
    } else if (r < 0.29) {
      const digest = SERVICES[3];
      input = this.#received(digest, `Weekly digest №${this.#index}`, time, {
        ...this.#body({
          html: true,
          paragraphs: 30 + Math.floor(this.#rand() * 50),
          greeting: "This week:",
          signature: "Unsubscribe: https://news.example/u",
        }),
      });
    } else {
      const from = this.#pick(CONTACTS);
      const subject = this.#pick(TOPICS);
      const extra: Partial<DeliverInput> = {};
      if (this.#chance(0.08)) {
        extra.Attachments = this.#attachments(1 + Math.floor(this.#rand() * 3));
      }
      if (this.#chance(0.004)) extra.PGPMIME = true;
      input = this.#received(from, subject, time, extra);
      const where = this.#rand();
      if (where < 0.25) labels.unshift(SystemLabel.Archive);
      else if (where < 0.30) labels.unshift(SystemLabel.Trash);
      else if (where < 0.36) labels.unshift(L.work);
      else if (where < 0.40) labels.unshift(L.work2024);
      if (this.#chance(0.10)) input.Flags = MessageFlag.Replied;
      else if (this.#chance(0.03)) input.Flags = MessageFlag.Forwarded;
      if (this.#chance(0.15)) this.#startThread(subject, from, input);
    }
    if (input.Kind === "received" && input.Unread === false) {
      const moved = [SystemLabel.Archive, SystemLabel.Trash, SystemLabel.Spam, L.work, L.work2024];
      const inbox = !labels.some((l) => moved.includes(l) || l === L.receipts);
      input.Unread = inbox ? this.#recent(time) ? this.#chance(0.6) : this.#chance(0.05) : false;
    }
    if (labels.length) input.LabelIDs = labels;
    return input;
  }

  /** The fixed first messages. */
  #showcase(i: number, time: number): DeliverInput | undefined {
    const L = this.#labels;
    const zoe = CONTACTS[0], anna = CONTACTS[3], li = CONTACTS[2];
    switch (i) {
      case 0:
        return this.#received(zoe, "Grüße aus Zürich — déjà vu ☕", time, {
          Text: "Hallo!\r\n\r\nÜber die Straße, in the café: naïve résumé, déjà vu.\r\n\r\n— Zoë",
          HTML: undefined,
          Unread: true,
        });
      case 1:
        return this.#received(SERVICES[3], "Weekly digest: ten things you missed", time, {
          ...this.#body({ html: true, paragraphs: 40, greeting: "This week:", signature: "Bye" }),
        });
      case 2:
        return this.#received(anna, "Отчёт и фотографии", time, {
          Attachments: [{ ...this.#blobs[2] }, { ...this.#blobs[1] }, { ...this.#blobs[3] }],
          LabelIDs: [L.important],
        });
      case 3:
        return this.#received(li, "Logo for the newsletter", time, {
          Text: undefined,
          HTML: `<html><body><p>Here is our logo:</p><p><img src="cid:logo@seed.example" ` +
            `alt="logo"></p><p>李雷</p></body></html>`,
          Attachments: [{
            Name: "logo.png",
            MIMEType: "image/png",
            Data: PNG_1X1,
            Disposition: "inline",
            ContentID: "logo@seed.example",
          }],
        });
      case 4:
        return this.#received(CONTACTS[4], "Encrypted: the signed contract", time, {
          PGPMIME: true,
          Text: "The contract is attached. Hilsen, Søren",
          HTML: undefined,
          Attachments: [{ ...this.#blobs[6], Name: "kontrakt.pdf" }],
          Unread: true,
        });
      case 5: {
        const input = this.#received(CONTACTS[5], "Réunion de lundi", time, {
          LabelIDs: [L.work],
        });
        this.#threads.push({
          subject: "Réunion de lundi",
          refs: [`<${input.ExternalID}>`],
          peer: CONTACTS[5],
          remaining: 2,
          due: 6,
          fixed: true,
        });
        return input;
      }
      case 6:
      case 7:
        return undefined; // The thread of case 5 continues here: the user replies, Émilie answers.
      case 8:
        return this.#received(CONTACTS[1], "Zugtickets für Lissabon ✈️", time, {
          LabelIDs: [L.work2024, L.travel, L.cafe, SystemLabel.Starred],
          Attachments: [{ ...this.#blobs[4] }],
        });
      case 9:
        return this.#received(SPAMMERS[0], "URGENT business proposal", time, {
          LabelIDs: [SystemLabel.Spam],
          Unread: true,
        });
      case 10:
        return this.#received(CONTACTS[6], "Παλιό μήνυμα", time, {
          LabelIDs: [SystemLabel.Trash],
        });
      case 11:
        return {
          Kind: "draft",
          From: this.#self,
          ToList: [CONTACTS[7]],
          Subject: "Unfinished thoughts",
          Time: time,
          Text: "Dear Alice,\r\n\r\nI was thinking",
        };
      default:
        return undefined;
    }
  }
}

/**
 * Creates the seed folders and labels (reusing existing ones with the same path) and `count`
 * messages for the user's first address.
 *
 * @param target The mail backend.
 * @param userID The user.
 * @param count How many messages.
 * @param seed PRNG seed.
 */
export async function seedMailbox(
  target: SeedTarget,
  userID: string,
  count: number,
  seed = 1,
): Promise<void> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`Invalid message count ${count}`);
  const address = target.accounts.addresses(userID)[0];
  if (!address) throw new RangeError(`User ${userID} has no address`);
  const addressKey: openpgp.PrivateKey = await target.accounts.addressKey(address.ID);
  const labels = ensureLabels(target, userID);
  const self = { Name: address.DisplayName, Address: address.Email };
  const gen = new Generator(seed, count, labels, self);
  const now = () => Math.floor(Date.now() / 1000);
  for (let done = 0; done < count;) {
    const n = Math.min(BATCH, count - done);
    const inputs: DeliverInput[] = [];
    for (let i = 0; i < n; i++) inputs.push(gen.next());
    const built = await Promise.all(
      inputs.map((input) => buildMessage(input, { address, addressKey, now })),
    );
    target.insert(userID, built);
    done += n;
  }
}
