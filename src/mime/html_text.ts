/**
 * Converting between the two body formats of a send (proton-api.md §3.6 step 1): HTML to plain
 * text for recipients that get `text/plain` (the official bridge uses html2text), and plain text to
 * HTML when a message mixes both and the rich body needs the plain parts too.
 *
 * The HTML → text conversion is deliberately simple and never throws: scripts, styles and the head
 * are dropped, block elements and `<br>` become line breaks, list items get a `* `, links keep
 * their target (`text (https://…)`), tags are removed, entities decoded, runs of blanks folded.
 *
 * @module
 */

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "©",
  reg: "®",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  euro: "€",
  laquo: "«",
  raquo: "»",
  shy: "",
  zwnj: "\u200c",
  zwj: "\u200d",
};

/** Decodes character references (`&amp;`, `&#233;`, `&#xE9;`); unknown ones stay as written. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);?/gi, (m, ref: string) => {
    if (ref[0] === "#") {
      const cp = ref[1] === "x" || ref[1] === "X"
        ? parseInt(ref.slice(2), 16)
        : parseInt(ref.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    const v = NAMED[ref.toLowerCase()];
    return v === undefined ? m : v;
  });
}

const BLOCK =
  /^(?:p|div|h[1-6]|ul|ol|li|tr|table|blockquote|pre|section|article|header|footer|hr|dl|dt|dd)$/i;

/** HTML → plain text (CRLF line ends). */
export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "");
  // Links: keep the target when it adds something.
  s = s.replace(
    /<a\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi,
    (_m, _q, d1, d2, d3, inner: string) => {
      const href = decodeEntities(d1 ?? d2 ?? d3 ?? "").trim();
      const text = inner;
      const plain = decodeEntities(text.replace(/<[^>]*>/g, "")).trim();
      if (!href || /^(?:cid|javascript):/i.test(href) || href === plain) return text;
      if (/^mailto:/i.test(href) && href.slice(7) === plain) return text;
      return `${text} (${href})`;
    },
  );
  const pre: string[] = [];
  s = s.replace(/<pre\b[^>]*>([\s\S]*?)<\/pre\s*>/gi, (_m, inner: string) => {
    pre.push(inner.replace(/<[^>]*>/g, ""));
    return `\n\uE000${pre.length - 1}\uE000\n`;
  });
  s = s.replace(/<\s*(\/?)\s*([a-z][a-z0-9]*)\b[^>]*>/gi, (_m, close: string, tag: string) => {
    const t = tag.toLowerCase();
    if (t === "br") return "\n";
    if (t === "li") return close ? "" : "\n* ";
    if (t === "td" || t === "th") return close ? "\t" : "";
    if (BLOCK.test(t)) return "\n";
    return "";
  });
  s = s.replace(/<[^>]*>/g, "");
  // Whitespace in HTML text is not significant: fold it, keep the line breaks made above.
  s = s.replace(/[ \t\r\f\v]*\n[ \t\r\f\v]*/g, "\n").replace(/[ \t\r\f\v]+/g, " ");
  s = decodeEntities(s).replace(/\u00a0/g, " ");
  s = s.replace(/\uE000(\d+)\uE000/g, (_m, n: string) => decodeEntities(pre[Number(n)] ?? ""));
  s = s.replace(/\n{3,}/g, "\n\n").replace(/^\n+|\s+$/g, "");
  return s.replace(/\r?\n/g, "\r\n");
}

/** Plain text → HTML: characters escaped, line breaks as `<br>`. */
export function textToHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\r?\n/g, "<br>\r\n");
}
