/**
 * Imports whose outcome is not known (the request timed out or its reply was lost, and the
 * message could not be found on the server right after): the client was told to try again, and
 * its retry must not store the message a second time when the first attempt did land after all.
 *
 * An APPEND of the same bytes into the same mailbox within {@link IN_DOUBT_WINDOW_MS} looks for
 * the earlier import first (by Message-ID, as right after it); while that attempt may still be
 * under way on the server ({@link IN_DOUBT_GRACE_MS}) and it is not found, the retry is put off
 * (`NO [UNAVAILABLE]`, try again in a few minutes) rather than imported again; after that it is
 * imported. Kept in memory, per account.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RemoteMessageId } from "../store/mod.ts";

/** How long an import in doubt is remembered. */
export const IN_DOUBT_WINDOW_MS = 30 * 60_000;

/** How long after it an import in doubt may still be under way on the server. */
export const IN_DOUBT_GRACE_MS = 2 * 60_000;

/** One import in doubt. */
export interface InDoubtImport {
  /** When it was tried (ms). */
  at: number;
  /** The messages the index knew before it (the import is none of them). */
  knownBefore: (id: RemoteMessageId) => boolean;
}

/** The imports in doubt of one account (see the module notes). */
export class InDoubtImports {
  readonly #entries = new Map<string, InDoubtImport>();
  readonly #now: () => number;

  /** `now`: the clock (tests). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The key of an import: the mailbox and the SHA-256 of the literal. */
  static key(mailboxRemoteId: string, literal: Uint8Array): string {
    return `${mailboxRemoteId}:${createHash("sha256").update(literal).digest("hex")}`;
  }

  /** Remembers an import in doubt. */
  record(key: string, knownBefore: (id: RemoteMessageId) => boolean): void {
    this.#prune();
    this.#entries.set(key, { at: this.#now(), knownBefore });
  }

  /** The import in doubt under `key`, if one is remembered, with its age in ms. */
  find(key: string): (InDoubtImport & { ageMs: number }) | undefined {
    this.#prune();
    const entry = this.#entries.get(key);
    return entry && { ...entry, ageMs: this.#now() - entry.at };
  }

  /** Forgets the import under `key` (found, or tried again). */
  forget(key: string): void {
    this.#entries.delete(key);
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now - entry.at > IN_DOUBT_WINDOW_MS) this.#entries.delete(key);
    }
  }
}
