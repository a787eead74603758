/**
 * Message flags as IMAP writes them (RFC 3501 §2.3.2) from the index's flag bits, keywords and
 * the per-mailbox \Deleted flag. Forwarded is shown both as `$Forwarded` (RFC 5788 registry) and
 * as `Forwarded` (what older Apple Mail and Outlook look for), as the official bridge does.
 *
 * @module
 */
import { MessageFlag } from "../../store/mod.ts";

/** The system flags and keywords of a message, in a stable order. */
export function flagList(bits: number, keywords: readonly string[], deleted: boolean): string[] {
  const out: string[] = [];
  if (bits & MessageFlag.Seen) out.push("\\Seen");
  if (bits & MessageFlag.Answered) out.push("\\Answered");
  if (bits & MessageFlag.Flagged) out.push("\\Flagged");
  if (deleted) out.push("\\Deleted");
  if (bits & MessageFlag.Draft) out.push("\\Draft");
  if (bits & MessageFlag.Forwarded) out.push("$Forwarded", "Forwarded");
  for (const k of keywords) {
    if (bits & MessageFlag.Forwarded && (k === "$Forwarded" || k === "Forwarded")) continue;
    out.push(k);
  }
  return out;
}
