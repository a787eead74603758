/**
 * The fields by which a message names the messages it answers or forwards (`In-Reply-To`,
 * `References`, and `X-Forwarded-Message-Id`, which some clients write on a forward), read from
 * its header as message IDs without angle brackets. The SMTP send and a draft APPENDed to Drafts
 * look its parent up with them (`src/connector/parent_lookup.ts`).
 *
 * @module
 */
import type { Header } from "./header.ts";

/** What a message's header says it answers or forwards. */
export interface MessageReferences {
  inReplyTo?: string;
  references: string[];
  forwardedMessageID?: string;
}

/** Message IDs of a header value (`<a@b> <c@d>`), without angle brackets. */
export function messageIDs(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]);
  if (bracketed.length > 0) return bracketed;
  const bare = value.trim();
  return bare && !/\s/.test(bare) ? [bare] : [];
}

/**
 * The {@link MessageReferences} of a message's header (a submitted message, a client's draft). The
 * values are decoded first: some clients (Python's email package among them) RFC 2047-encode
 * long ID lists.
 */
export function referenceFields(header: Header): MessageReferences {
  const ids = (name: string) => messageIDs(header.getText(name));
  const refs: MessageReferences = { references: ids("references") };
  const inReplyTo = ids("in-reply-to")[0];
  if (inReplyTo !== undefined) refs.inReplyTo = inReplyTo;
  const forwarded = ids("x-forwarded-message-id")[0];
  if (forwarded !== undefined) refs.forwardedMessageID = forwarded;
  return refs;
}
