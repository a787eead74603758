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

const SUBJ_TRAILER = /(?:\(fwd\)| )+$/i;
const SUBJ_REFWD = /^(?:\[[^[\]]*\] *)*(?:re|fwd?) *(?:\[[^[\]]*\] *)?:/i;
const SUBJ_BLOB = /^\[[^[\]]*\] */;
const FWD_HEADER = "[fwd:";

/** The base subject of a decoded subject (RFC 5256 §2.1). */
export function baseSubject(decoded: string): string {
  let s = decoded.replace(/\r?\n/g, "").replace(/\t/g, " ").replace(/ {2,}/g, " ");
  for (;;) {
    s = s.replace(SUBJ_TRAILER, "");
    for (;;) {
      const before = s;
      while (s.startsWith(" ")) s = s.slice(1);
      const refwd = SUBJ_REFWD.exec(s);
      if (refwd) s = s.slice(refwd[0].length);
      else {
        const blob = SUBJ_BLOB.exec(s);
        if (blob && s.length > blob[0].length) s = s.slice(blob[0].length);
      }
      if (s === before) break;
    }
    if (
      s.length >= FWD_HEADER.length + 1 &&
      s.slice(0, FWD_HEADER.length).toLowerCase() === FWD_HEADER && s.endsWith("]")
    ) {
      s = s.slice(FWD_HEADER.length, -1);
      continue;
    }
    return s;
  }
}
