/**
 * Decoding `text/plain; format=flowed` (RFC 3676), which Thunderbird, Apple Mail and mutt write
 * for plain-text mail: lines of about 72 characters where a trailing space means "the paragraph
 * goes on". The mail API takes a body as text, not MIME, so the format parameter cannot travel
 * with it; a body sent on as it came would show every soft break as a hard one (paragraphs cut at
 * 72 columns, also on a phone). Decoded, each paragraph is one line, as the writer meant it.
 *
 * The rules (RFC 3676 §4):
 * - a line's quote depth is the number of `>` it starts with; they are removed;
 * - then one leading space is removed (space-stuffing, §4.4);
 * - a line that then ends in a space is flowed (§4.2), except the signature separator `-- `
 *   (§4.3), which neither joins nor is joined;
 * - a flowed line joins the next line of the same quote depth, without its trailing space when
 *   `DelSp=yes` (§4.2); one followed by a line of another depth, by the signature separator, or
 *   by the end of the text, ends its paragraph as it is (§4.5);
 * - each paragraph is written with its quote marks back (`>` per level and a space), so quoted
 *   text stays recognisable in the plain body.
 *
 * @module
 */

/** The signature separator (after quote marks and space-stuffing are removed). */
const SIGNATURE_SEPARATOR = "-- ";

/**
 * `text` (a decoded `format=flowed` body) with its soft line breaks removed (see the module
 * notes). Line ends in the result are CRLF. Never throws.
 */
export function unflow(text: string, delSp = false): string {
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === "") lines.pop(); // the final line end
  const out: string[] = [];
  // The paragraph being joined: its last line was flowed (it ends in the soft-break space).
  let paragraph: { depth: number; text: string } | undefined;
  const end = () => {
    if (!paragraph) return;
    const { depth, text } = paragraph;
    out.push(depth === 0 ? text : ">".repeat(depth) + (text === "" ? "" : " " + text));
    paragraph = undefined;
  };
  for (const raw of lines) {
    let depth = 0;
    while (raw[depth] === ">") depth++;
    let line = raw.slice(depth);
    if (line.startsWith(" ")) line = line.slice(1);
    const separator = line === SIGNATURE_SEPARATOR;
    // §4.5: a flowed line followed by another depth ends its paragraph (as if fixed); §4.3:
    // so does one followed by the signature separator, which never joins anything.
    if (paragraph && (paragraph.depth !== depth || separator)) end();
    if (paragraph) {
      // §4.2: with DelSp=yes the space before the soft break was added by the writer.
      if (delSp) paragraph.text = paragraph.text.slice(0, -1);
      paragraph.text += line;
    } else paragraph = { depth, text: line };
    if (separator || !line.endsWith(" ")) end();
  }
  end();
  return out.join("\r\n") + (out.length > 0 ? "\r\n" : "");
}
