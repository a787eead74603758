/**
 * GETQUOTA (RFC 9208 §4.1.1): the usage and limits of a quota root. The account has one root,
 * `""`, holding one resource, `STORAGE`: what the account's mail takes and what its Proton plan
 * allows, in units of 1024 octets, as the API last reported them (`UsedSpace`, `MaxSpace`: at
 * login, then from the event loop). Every mailbox of the account, and every address in split
 * mode, shares it. Any other root, or an account whose figures are not known, is `NO
 * [NONEXISTENT]`.
 *
 * Real client lines:
 *
 * ```
 * A000002 GETQUOTA ""            (KDE KIMAP's GetQuotaJob, for the root QUOTAROOT named)
 * A000003 GETQUOTA "user/foo"    (the same against a Cyrus-style root name: NO here)
 * ```
 *
 * @module
 */
import type { StorageUsage } from "../../connector/account.ts";
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import type { Encoder } from "../wire/mod.ts";
import { accountOf, syntaxError } from "./command_support.ts";

/** The name of the account's only quota root. */
export const QUOTA_ROOT = "";

/** `STORAGE` usage and limit in units of 1024 octets (usage rounded up, the limit down). */
export function storageKiB(usage: StorageUsage): { used: number; limit: number } {
  return { used: Math.ceil(usage.usedBytes / 1024), limit: Math.floor(usage.limitBytes / 1024) };
}

/** Writes `* QUOTA "" (STORAGE <used> <limit>)` CRLF. */
export function writeQuota(e: Encoder, usage: StorageUsage): void {
  const { used, limit } = storageKiB(usage);
  e.raw("* QUOTA ").quoted(QUOTA_ROOT).raw(` (STORAGE ${used} ${limit})`).crlf();
}

/** The GETQUOTA command. */
export const getQuotaCommand: CommandSpec = {
  names: ["GETQUOTA"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const root = ctx.args.expectAString();
    if (!ctx.args.end()) return syntaxError(ctx.args);
    const usage = accountOf(ctx.session).storageUsage?.();
    if (root !== QUOTA_ROOT || !usage) return no("No such quota root", "NONEXISTENT");
    await ctx.session.respond((e) => writeQuota(e, usage));
    return ok("GETQUOTA completed");
  },
};
