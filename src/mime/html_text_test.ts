import assert from "node:assert/strict";
import { decodeEntities, htmlToText, textToHtml } from "./html_text.ts";

Deno.test("htmlToText: blocks, breaks, lists, links, entities, scripts", () => {
  const html = "<html><head><title>T</title><style>p{}</style></head><body>" +
    "<h1>Title</h1><p>Hello&nbsp;<b>World</b> &amp; co.<br>next   line</p>" +
    "<ul><li>one</li><li>two</li></ul>" +
    '<p><a href="https://example.test/x">the site</a> <a href="mailto:a@b.test">a@b.test</a></p>' +
    "<script>alert(1)</script><pre>  keep   this</pre>&#233;&#x263A;&bogus;</body></html>";
  assert.equal(
    htmlToText(html),
    "Title\r\n\r\nHello World & co.\r\nnext line\r\n\r\n* one\r\n* two\r\n\r\n" +
      "the site (https://example.test/x) a@b.test\r\n\r\n  keep   this\r\né☺&bogus;",
  );
  assert.equal(htmlToText(""), "");
  assert.equal(htmlToText("<p>unclosed <b"), "unclosed <b");
});

Deno.test("textToHtml and decodeEntities", () => {
  assert.equal(textToHtml('a<b>&"c"\r\nd'), "a&lt;b&gt;&amp;&quot;c&quot;<br>\r\nd");
  assert.equal(decodeEntities("&lt;&#60;&#x3c;&LT;&unknown;&#0;"), "<<<<&unknown;&#0;");
});
