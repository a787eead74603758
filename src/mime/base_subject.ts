/**
 * The base subject of RFC 5256 §2.1, which `SORT … SUBJECT` compares: the subject with its reply
 * and forward markers (`Re:`, `Fw:`, `Fwd:`, `[list]` tags, a trailing `(fwd)`, a `[Fwd: …]`
 * wrapper) taken off, so a thread's messages sort together.
 *
 * Steps (the RFC's numbering), all case-insensitive:
 * 1. encoded words decoded (the caller passes the decoded text), tabs and folding turned into
 *    spaces, runs of spaces into one;
 * 2. trailing `(fwd)` and spaces removed, repeatedly;
 * 3. leading `subj-leader`s removed: a space, or any `[blob]`s followed by `re`, `fw` or `fwd`,
 *    an optional `[blob]` and a colon;
 * 4. a leading `[blob]` removed when something other than spaces is left after it;
 * 5. 3 and 4 repeated until neither applies;
 * 6. `[fwd: … ]` around the whole text removed, then again from step 2.
 *
 * @module
 */

/** One `subj-blob` (`[…]` and the spaces after it), matched where `lastIndex` points. */
const BLOB = /\[[^[\]]*\] */y;
/** What follows the blobs of a `subj-refwd`: `re`, `fw` or `fwd`, spaces, a blob, a colon. */
const REFWD_TAIL = /(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/iy;
const FWD_HEADER = "[fwd:";
const TRAILER = "(fwd)";

/**
 * The base subject of a decoded subject (RFC 5256 §2.1).
 *
 * Linear in the length of the subject, whatever it holds (a subject is attacker-controlled and
 * this runs for every message the index takes in): the text is never rescanned from the start.
 * Two facts allow it: a `subj-refwd` can only follow a whole run of blobs (a blob starts with `[`,
 * `re` and `fw` do not), so when none follows the run, step 4 then takes away every blob of it but
 * the last one when nothing would be left after it; and trailers are only ever taken off the end.
 */
export function baseSubject(decoded: string): string {
  const s = decoded.replace(/\r?\n/g, "").replace(/\t/g, " ").replace(/ {2,}/g, " ");
  let start = 0;
  let end = s.length;
  for (;;) {
    // Step 2: trailing "(fwd)" and spaces.
    for (;;) {
      if (end > start && s.charCodeAt(end - 1) === 0x20) end--;
      else if (
        end - start >= TRAILER.length &&
        s.slice(end - TRAILER.length, end).toLowerCase() === TRAILER
      ) end -= TRAILER.length;
      else break;
    }
    // Steps 3–5: leading spaces, blobs and reply/forward markers.
    for (;;) {
      while (start < end && s.charCodeAt(start) === 0x20) start++;
      let runEnd = start;
      let lastBlob = -1;
      for (;;) {
        BLOB.lastIndex = runEnd;
        const m = BLOB.exec(s);
        if (!m || runEnd + m[0].length > end) break;
        lastBlob = runEnd;
        runEnd += m[0].length;
      }
      REFWD_TAIL.lastIndex = runEnd;
      const refwd = REFWD_TAIL.exec(s);
      if (refwd && runEnd + refwd[0].length <= end) {
        start = runEnd + refwd[0].length;
        continue;
      }
      // Step 4, repeated: each blob goes while something is left after it.
      if (lastBlob >= 0) start = runEnd < end ? runEnd : lastBlob;
      break;
    }
    // Step 6: "[fwd: … ]" around the whole text, then again from step 2.
    if (
      end - start > FWD_HEADER.length &&
      s.slice(start, start + FWD_HEADER.length).toLowerCase() === FWD_HEADER &&
      s.charCodeAt(end - 1) === 0x5d
    ) {
      start += FWD_HEADER.length;
      end--;
      continue;
    }
    return s.slice(start, end);
  }
}
