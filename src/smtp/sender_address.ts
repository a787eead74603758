/**
 * Which address a submitted message is sent from (proton-api.md §3.6 step 4, §6):
 *
 * - the first address of the `From:` header wins over `MAIL FROM`; `MAIL FROM` is used only when
 *   the message has no usable `From:` address;
 * - a `+tag` (`alice+news@example.com`) is allowed: the address is found without it, and the
 *   tagged form is kept as the draft's sender;
 * - the address must belong to the account, be enabled (`Status` 1) and allowed to send
 *   (`Send` 1);
 * - in split address mode it must also be the address the client logged in with.
 *
 * Every refusal is a `550 5.7.1` {@link SubmissionError} that names the address and says why.
 *
 * @module
 */
import type { Address } from "../api/types.ts";
import { AddressStatus } from "../api/types.ts";
import type { AddressMode } from "./sending_account.ts";
import { SubmissionError } from "./submission.ts";

/** The resolved sender. */
export interface ResolvedSender {
  /** The account address sending the message. */
  address: Address;
  /** The sender address: the account's spelling, or as written when it has a `+tag`. */
  email: string;
  /** The display name: from the `From:` header, else the address' display name. */
  name: string;
}

/** What {@link resolveSender} decides from. */
export interface SenderInput {
  /** The first `From:` address, if the message has one. */
  from?: { name: string; address: string };
  /** The `MAIL FROM` reverse-path ("" for `<>`). */
  mailFrom: string;
  /** The address the client logged in with. */
  username: string;
  /** The account's addresses. */
  addresses: readonly Address[];
  mode: AddressMode;
}

/** `local+tag@domain` → `local@domain` (lower-cased); other addresses lower-cased. */
export function stripPlusTag(email: string): string {
  return email.trim().toLowerCase().replace(/^([^@+]*)\+[^@]*@/, "$1@");
}

function refuse(message: string): SubmissionError {
  return new SubmissionError(message, { code: 550, enhanced: "5.7.1" });
}

/** The address of `addresses` that `email` names: exactly, else without its `+tag`. */
export function findOwnAddress(
  addresses: readonly Address[],
  email: string,
): Address | undefined {
  const lower = email.trim().toLowerCase();
  return addresses.find((a) => a.Email.toLowerCase() === lower) ??
    addresses.find((a) => a.Email.toLowerCase() === stripPlusTag(lower));
}

/**
 * Resolves the sender address.
 *
 * @throws {SubmissionError} `550 5.7.1` when there is no sender, it is not an address of the
 * account, it is disabled or may not send, or (split mode) it is not the login address.
 */
export function resolveSender(input: SenderInput): ResolvedSender {
  const email = (input.from?.address || input.mailFrom).trim();
  if (!email) {
    throw refuse("the message has no sender: give a From: header or a MAIL FROM address");
  }
  const address = findOwnAddress(input.addresses, email);
  if (!address) {
    throw refuse(`cannot send from ${email}: it is not an address of this account`);
  }
  if (address.Status !== AddressStatus.Enabled) {
    throw refuse(`cannot send from ${email}: the address is disabled`);
  }
  if (address.Send !== 1) {
    throw refuse(`cannot send from ${email}: the address is not allowed to send`);
  }
  if (input.mode === "split") {
    const login = findOwnAddress(input.addresses, input.username);
    if (!login || login.ID !== address.ID) {
      throw refuse(
        `cannot send from ${email}: in split address mode send from ${input.username}, ` +
          "the address you logged in with",
      );
    }
  }
  // The account's own spelling of the address (`ALICE@Example.com` goes out as the account has
  // it), unless a `+tag` makes it another string.
  const spelled = email.toLowerCase() === address.Email.toLowerCase() ? address.Email : email;
  return { address, email: spelled, name: input.from?.name || address.DisplayName || "" };
}
