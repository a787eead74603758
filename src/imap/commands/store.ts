/**
 * STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8; CONDSTORE `UNCHANGEDSINCE`, RFC 7162 §3.1.3).
 *
 * Real client lines:
 * - Thunderbird: `12 uid store 4321 +Flags (\Seen)` and `14 uid store 4321 -Flags (\Flagged)`
 * - mbsync: `9 UID STORE 17 +FLAGS.SILENT (\Deleted)`
 * - mutt with CONDSTORE, RFC 7162 style: `a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045)
 *   +FLAGS.SILENT (\Deleted)`
 *
 * The change goes through the account (`\Seen`, `\Flagged`, `$Forwarded` reach the API first;
 * proton-api.md §5.3), then each message of the set is answered with its current flags read back
 * from the index: `* n FETCH (FLAGS (…))`, plus `UID u` for UID STORE and `UID u MODSEQ (m)` once
 * CONDSTORE is on (RFC 7162 §3.1). `.SILENT` answers nothing, except that with CONDSTORE on the
 * messages whose mod-sequence changed are still reported as `* n FETCH (UID u MODSEQ (m))`
 * (RFC 7162 §3.1.3: the client needs the new mod-sequences). The bus echoes this session's change
 * back to its own view; those queued copies are dropped so the flush after the command does not
 * repeat them, while other sessions on the mailbox get them as usual.
 *
 * `UNCHANGEDSINCE n` stores only into messages whose mod-sequence is at most n; the others are
 * listed in `OK [MODIFIED set]` (sequence numbers for STORE, UIDs for UID STORE). The account
 * checks again when the change runs (its mutations run one at a time), so a STORE of another
 * session queued in between makes the message fail instead of being overwritten. A read-only
 * (EXAMINEd) mailbox answers `NO`. Messages expunged by someone else but not yet reported are
 * skipped; no EXPUNGE is ever written during a non-UID STORE (the session's flush rule).
 *
 * @module
 */
import { MailboxOperationError } from "../../connector/account.ts";
import type { FlagChange, Uid } from "../../store/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import { flagList } from "../state/flags.ts";
import { compactUidSet, type Decoder } from "../wire/mod.ts";
import { dropOwnFlagChanges } from "./own_flag_changes.ts";

/** STORE and UID STORE. */
export const storeCommand: CommandSpec = {
  names: ["STORE", "UID STORE"],
  states: ["selected"],
  flush: "no-expunge",
  handle: handleStore,
};

const SYSTEM_FLAGS = new Set(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]);

/** A parsed STORE request (after the sequence set). */
export interface StoreRequest {
  mode: FlagChange["mode"];
  silent: boolean;
  /** The flags as sent (system flags in canonical case), `\Recent` dropped. */
  flags: string[];
  /** `(UNCHANGEDSINCE n)` (RFC 7162 §3.1.3). */
  unchangedSince?: bigint;
}

/**
 * Parses `[(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] flag-list`; errors are recorded on `args`
 * (check `args.end()`).
 */
export function parseStoreRequest(args: Decoder): StoreRequest {
  let unchangedSince: bigint | undefined;
  const modifiers = args.optionalList();
  if (modifiers) {
    if (modifiers.atEnd()) args.fail("Expected a STORE modifier");
    while (!modifiers.atEnd() && modifiers.ok) {
      const name = modifiers.expectKeyword();
      if (name === "UNCHANGEDSINCE") unchangedSince = modifiers.expectModSeq();
      else if (name !== "") modifiers.fail(`Unknown STORE modifier ${name.slice(0, 40)}`);
    }
  }
  const action = args.expectKeyword();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(action);
  if (action !== "" && !m) {
    args.fail(`Expected FLAGS, +FLAGS or -FLAGS, got ${action.slice(0, 40)}`);
  }
  const flags: string[] = [];
  for (const flag of args.expectFlagList(true)) {
    if (flag.startsWith("\\")) {
      // RFC 3501 §2.3.2: \Recent cannot be changed by the client; it is ignored, not refused.
      if (flag.toLowerCase() === "\\recent") continue;
      if (!SYSTEM_FLAGS.has(flag)) {
        args.fail(`Unknown system flag ${flag.slice(0, 40)}`);
        continue;
      }
    }
    if (!flags.includes(flag)) flags.push(flag);
  }
  const request: StoreRequest = {
    mode: m?.[1] === "+" ? "add" : m?.[1] === "-" ? "remove" : "replace",
    silent: m?.[2] !== undefined,
    flags,
  };
  if (unchangedSince !== undefined) request.unchangedSince = unchangedSince;
  return request;
}

async function handleStore(ctx: CommandContext): Promise<CommandResult> {
  const { args, session } = ctx;
  const view = session.view;
  const account = session.account;
  if (!view || !account) throw new Error("STORE ran without a selected mailbox");
  const set = args.expectSequenceSet();
  const request = parseStoreRequest(args);
  if (!args.end()) return bad(args.error?.message ?? "Invalid STORE arguments", "CLIENTBUG");
  if (view.readOnly) return no("The mailbox is read-only (EXAMINE)", "CANNOT");
  const uids = view.resolve(set, ctx.uid);
  if (uids === undefined) {
    return bad(`Invalid message sequence number (the mailbox has ${view.exists})`, "CLIENTBUG");
  }
  // RFC 7162 §3.1: UNCHANGEDSINCE is CONDSTORE-enabling.
  if (request.unchangedSince !== undefined && !session.enabled.has("CONDSTORE")) {
    session.enable("CONDSTORE");
  }
  const condstore = session.enabled.has("CONDSTORE");
  const membership = view.store.membership;

  let targets = uids;
  const modified: Uid[] = [];
  if (request.unchangedSince !== undefined && uids.length > 0) {
    const limit = request.unchangedSince;
    for (const row of membership.flagRows(view.mailboxId, view.toUidRanges(uids))) {
      if (BigInt(row.modseq) > limit) modified.push(row.uid);
    }
    if (modified.length > 0) {
      const failed = new Set(modified);
      targets = uids.filter((u) => !failed.has(u));
    }
  }

  const changed = new Set<Uid>();
  if (targets.length > 0) {
    try {
      const result = await account.storeFlags(session.id, view.mailboxId, targets, {
        mode: request.mode,
        flags: request.flags,
        ...(request.unchangedSince !== undefined ? { unchangedSince: request.unchangedSince } : {}),
      });
      if (result.modified && result.modified.length > 0) {
        // Changed by a mutation that ran between the check above and this STORE.
        const late = new Set(result.modified);
        targets = targets.filter((u) => !late.has(u));
        modified.push(...result.modified);
        modified.sort((a, b) => a - b);
      }
      for (const update of result.updates) {
        for (const ref of update.memberships) {
          if (ref.mailbox === view.mailboxId) changed.add(ref.uid);
        }
      }
      for (const uid of result.deletedChanged) changed.add(uid);
    } catch (error) {
      if (error instanceof MailboxOperationError) {
        return no(error.message.replace(/[\r\n]+/g, " ") || "STORE failed", error.code);
      }
      throw error;
    }
    // What this command reports itself must not come again from the flush: without .SILENT
    // that is every target (their current flags follow), with it only what this STORE changed.
    dropOwnFlagChanges(view, request.silent ? changed : targets);
  }

  const report = request.silent ? (condstore ? [...changed].sort((a, b) => a - b) : []) : targets;
  if (report.length > 0) {
    const rows = membership.flagRows(view.mailboxId, view.toUidRanges(report));
    await session.respond((e) => {
      for (const row of rows) {
        const seq = view.seqOf(row.uid);
        if (seq === undefined) continue;
        e.raw(`* ${seq} FETCH (`);
        if (!request.silent) {
          e.raw("FLAGS ").flags(flagList(row.flags, row.keywords, row.deleted));
          if (ctx.uid || condstore) e.raw(` UID ${row.uid}`);
          if (condstore) e.raw(` MODSEQ (${row.modseq})`);
        } else {
          e.raw(`UID ${row.uid} MODSEQ (${row.modseq})`);
        }
        e.raw(")").crlf();
      }
    });
  }

  if (modified.length > 0) {
    const numbers = ctx.uid ? modified : modified.map((u) => view.seqOf(u)!).filter((n) => n);
    return ok("Conditional STORE failed", `MODIFIED ${compactUidSet(numbers)}`);
  }
  return ok(`${ctx.name} completed`);
}
