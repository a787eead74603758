/**
 * A new Message-ID for a message that has none (RFC 5322 §3.6.4: "SHOULD have"), as a submission
 * server adds one (RFC 6409 §8.3): a random left part and the sender's domain. Bridge gives it
 * to drafts it creates from such a message, so that the draft can be found by it (a draft whose
 * creation reply was lost) and recipients get a Message-ID.
 *
 * @module
 */

/** A new Message-ID without angle brackets, in the domain of `address` when it has one. */
export function newMessageId(address?: string): string {
  const at = address?.lastIndexOf("@") ?? -1;
  const domain = at >= 0 ? address!.slice(at + 1).trim().toLowerCase() : "";
  const safe = /^[a-z0-9.-]+$/.test(domain) && !domain.startsWith(".") ? domain : "bridge.local";
  return `${crypto.randomUUID()}@${safe}`;
}
