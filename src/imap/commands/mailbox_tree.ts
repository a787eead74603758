/**
 * The visible mailboxes of an account as a hierarchy, for LIST and LSUB: which names exist, which
 * have children (`\HasChildren`, RFC 3348/5258), and which are only implied by a deeper name (a
 * parent that is not a mailbox itself, listed as `\Noselect` or `\NonExistent`).
 *
 * Names come out INBOX first, then in code-unit order, which puts every parent right before its
 * children.
 *
 * @module
 */
import type { Mailbox } from "../../store/mod.ts";

/** One name of the tree: a mailbox, or a parent implied by deeper names. */
export interface TreeEntry {
  /** The decoded name. */
  name: string;
  /** The mailbox, or `undefined` for an implied parent. */
  mailbox: Mailbox | undefined;
}

/** The hierarchy of a set of mailboxes. */
export class MailboxTree {
  readonly #byName = new Map<string, Mailbox>();
  readonly #withChildren = new Set<string>();
  readonly #entries: TreeEntry[];
  readonly #delimiter: string;

  /** Builds the tree of `mailboxes` (names with `delimiter` as the hierarchy separator). */
  constructor(mailboxes: readonly Mailbox[], delimiter = "/") {
    this.#delimiter = delimiter;
    for (const m of mailboxes) this.#byName.set(m.name, m);
    const implied = new Set<string>();
    for (const m of mailboxes) {
      let i = m.name.lastIndexOf(delimiter);
      while (i > 0) {
        const parent = m.name.slice(0, i);
        if (this.#withChildren.has(parent)) break; // its ancestors are recorded already
        this.#withChildren.add(parent);
        if (!this.#byName.has(parent)) implied.add(parent);
        i = parent.lastIndexOf(delimiter);
      }
    }
    const entries: TreeEntry[] = [...this.#byName.values()].map((m) => ({
      name: m.name,
      mailbox: m,
    }));
    for (const name of implied) entries.push({ name, mailbox: undefined });
    entries.sort((a, b) => {
      if (a.name === "INBOX") return b.name === "INBOX" ? 0 : -1;
      if (b.name === "INBOX") return 1;
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });
    this.#entries = entries;
  }

  /** Every name, INBOX first, parents before their children. */
  get entries(): readonly TreeEntry[] {
    return this.#entries;
  }

  /** The mailbox called `name`, if it exists. */
  get(name: string): Mailbox | undefined {
    return this.#byName.get(name);
  }

  /** Whether some mailbox lies below `name`. */
  hasChildren(name: string): boolean {
    return this.#withChildren.has(name);
  }

  /** The mailboxes below `name` (children, grandchildren, …). */
  descendants(name: string): Mailbox[] {
    if (!this.#withChildren.has(name)) return [];
    const prefix = name + this.#delimiter;
    return [...this.#byName.values()].filter((m) => m.name.startsWith(prefix));
  }
}
