/**
 * Shared pieces of the mailbox-command tests: a local account with a fake session, cleaned up
 * afterwards, a small message builder and the tagged line a result would be written as.
 *
 * @module
 */
import { FakeSession, LocalAccount } from "../_test_account.ts";
import type { CommandResult } from "../session/context.ts";

/** A short RFC 822 message numbered `n`. */
export function message(n: number): string {
  return `From: a@example.test\r\nSubject: m${n}\r\nMessage-ID: <m${n}@example.test>\r\n\r\nbody ${n}\r\n`;
}

/** Runs `fn` with a fresh {@link LocalAccount} and a session on it; closes the account after. */
export async function withAccount(
  fn: (account: LocalAccount, session: FakeSession) => Promise<void>,
): Promise<void> {
  const account = new LocalAccount();
  try {
    await fn(account, new FakeSession(account));
  } finally {
    account.close();
  }
}

/** The tagged line the session would write for `result` (tag `a1`). */
export function tagged(result: CommandResult, tag = "a1"): string {
  const code = result.code ? `[${result.code}] ` : "";
  return `${tag} ${result.status} ${code}${result.text}`;
}
